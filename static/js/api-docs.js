// Once Swagger UI has drawn its operations: names the servers list, which Swagger UI leaves without
// a label (select-name), and marks the page ready for its tests.
(function () {
  "use strict";
  function ready() {
    if (document.querySelector("#swagger-ui .opblock")) {
      const servers = document.getElementById("servers");
      if (servers && !servers.hasAttribute("aria-label")) {
        servers.setAttribute("aria-label", "Server");
      }
      document.body.setAttribute("data-docs-ready", "");
      return true;
    }
    return false;
  }
  if (!ready()) {
    const observer = new MutationObserver(function () {
      if (ready()) {
        observer.disconnect();
      }
    });
    observer.observe(document.getElementById("swagger-ui"), { childList: true, subtree: true });
  }
})();
