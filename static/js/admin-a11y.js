// The back office's accessibility fix that a stylesheet cannot make: the admin's filter boxes for
// many-to-many fields label their search icon with aria-label on a plain span, which assistive
// technology may ignore (aria-prohibited-attr). Giving the span an image role makes the label valid.
(function () {
  "use strict";
  function labelIcons() {
    document.querySelectorAll(".search-label-icon[aria-label]:not([role])").forEach(function (icon) {
      icon.setAttribute("role", "img");
    });
  }
  // The admin's own scripts add the boxes when the page has loaded.
  window.addEventListener("load", function () {
    window.setTimeout(labelIcons, 0);
  });
})();
