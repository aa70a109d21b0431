"""OCDS validation and compilation without a network.

libcoveocds and ocdskit read the standard from the zip shipped with the tests, and the
extensions a package declares from tests/data/ocds/extensions, served at their published
addresses while `offline_extensions()` is active (the same zip archive the extension registry
would download for each extension's release).
"""

import io
import json
import zipfile
from contextlib import contextmanager
from pathlib import Path

import requests
from libcoveocds.api import ocds_json_output
from libcoveocds.config import LibCoveOCDSConfig
from ocdsextensionregistry import ProfileBuilder
from ocdsextensionregistry.util import session
from ocdskit.combine import merge

DATA = Path(__file__).parent / "data" / "ocds"
STANDARD_ZIP = DATA / "standard-1__1__5.zip"
EXTENSIONS = DATA / "extensions"
ARCHIVES = "https://github.com/open-contracting-extensions/"
STANDARD_TAG = "1__1__5"


def _archive(repository: str, ref: str) -> bytes:
    """The extension's folder as the hosting service's archive of a tag: one top folder, then its files."""
    folder = EXTENSIONS / repository
    top = f"{repository}-{ref.removeprefix('v')}/"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(top, "")
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, top + str(path.relative_to(folder)))
    return buffer.getvalue()


class _ExtensionArchives(requests.adapters.BaseAdapter):
    def send(self, request, **kwargs):
        response = requests.Response()
        response.url = request.url
        response.request = request
        # https://github.com/<owner>/<repository>/archive/<ref>.zip
        parts = request.url.removeprefix(ARCHIVES).split("/")
        if len(parts) == 3 and parts[1] == "archive" and (EXTENSIONS / parts[0]).is_dir():
            response.status_code = 200
            response._content = _archive(parts[0], parts[2].removesuffix(".zip"))
        else:
            response.status_code = 404
            response._content = b""
        return response

    def close(self):
        pass


@contextmanager
def offline_extensions():
    previous = session.adapters.get(ARCHIVES)
    session.mount(ARCHIVES, _ExtensionArchives())
    try:
        with session.cache_disabled():
            yield
    finally:
        if previous is None:
            session.adapters.pop(ARCHIVES, None)
        else:
            session.mount(ARCHIVES, previous)


def validate(package_path: Path, output_dir: Path) -> dict:
    """libcoveocds' result for a package, validated against the standard and its declared extensions."""
    config = LibCoveOCDSConfig({"standard_zip": STANDARD_ZIP.resolve().as_uri(), "context": "api"})
    # With extensions, the validator writes the patched schema there.
    output_dir.mkdir(parents=True, exist_ok=True)
    with offline_extensions():
        result = ocds_json_output(
            output_dir=str(output_dir), file=str(package_path), schema_version="1.1", lib_cove_ocds_config=config
        )
    assert result["version_used"] == "1.1"
    return result


def compile_records(package: dict) -> dict:
    """`ocdskit compile` of a release package into a record package, with the extensions' merge rules."""
    with offline_extensions():
        builder = ProfileBuilder(
            STANDARD_TAG, package.get("extensions", []), standard_base_url=STANDARD_ZIP.resolve().as_uri()
        )
        schema = builder.patched_release_schema()
        (record_package,) = merge([json.loads(json.dumps(package))], schema=schema, return_package=True)
    return record_package


def undeclared_fields(result: dict) -> list[str]:
    """The paths of fields that neither the standard nor a declared extension defines."""
    fields = result["all_additional_fields"]
    return sorted(f"{field['path']}/{field['field_name']}" for field in fields)
