"""«Загрузка данных биллинга» as bytes: the six CSV files, or one ZIP of them, become
{file name: bytes} for `app.billing.directory.import_files`. No web, no database.

What the upload must be is checked here (which files, how big, how a ZIP inflates); what the
files say is checked by the import itself, the same code as `import-billing`.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence

from app.domain import N_, Problem
from app.domain.billing_csv import FILES
from app.spreadsheets import ZIP_MAGIC, TooMuchInflation, inflate_members

MAX_UPLOAD_MB = 100
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024  # the route's body limit: refused before read
MAX_UNPACKED_MB = 300
MAX_UNPACKED_BYTES = MAX_UNPACKED_MB * 1024 * 1024  # a ZIP's files together, inflated
MAX_RATIO = 100  # a CSV inflating more than this is not a billing file

NO_FILES = N_("Выберите шесть файлов CSV справочника биллинга или один ZIP-архив с ними")
TOO_BIG = N_("Загрузка больше {mb} МБ: упакуйте файлы в ZIP-архив")
DAMAGED = N_("Архив повреждён и не читается: создайте его заново")
ENCRYPTED = N_("Архив защищён паролем: загрузите архив без пароля")
BOMB = N_("Архив после распаковки слишком велик (более {mb} МБ)")
NESTED = N_("Файлы должны лежать в корне архива, без папок: {names}")
EXTRA = N_("Лишние файлы: {names}. Нужны ровно эти шесть: {expected}")
MISSING = N_("Не хватает файлов: {names}. Нужны все шесть: {expected}")
DUPLICATE = N_("Файл {name} загружен дважды")
MIXED = N_("Загрузите либо один ZIP-архив, либо файлы CSV, но не вместе")


class UploadRefused(Exception):
    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message)
        self.problem = Problem("upload", message, params)


def _expected() -> str:
    return ", ".join(FILES)


def _basename(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1]


def _checked_names(names: Sequence[str]) -> None:
    """Exactly the six files of SPEC §6, each once."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise UploadRefused(DUPLICATE, name=name)
        seen.add(name)
    extra = [n for n in names if n not in FILES]
    if extra:
        raise UploadRefused(EXTRA, names=", ".join(extra), expected=_expected())
    missing = [n for n in FILES if n not in seen]
    if missing:
        raise UploadRefused(MISSING, names=", ".join(missing), expected=_expected())


def _unzipped(data: bytes) -> dict[str, bytes]:
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
        infos = package.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise UploadRefused(DAMAGED) from None
    nested = [i.filename for i in infos if "/" in i.filename.rstrip("/") or i.is_dir()]
    if nested:
        raise UploadRefused(NESTED, names=", ".join(sorted(nested)[:10]))
    _checked_names([i.filename.lower() for i in infos])
    if any(i.flag_bits & 0x1 for i in infos):
        raise UploadRefused(ENCRYPTED)
    try:
        return {info.filename.lower(): content for info, content in
                inflate_members(package, infos, MAX_UNPACKED_BYTES, max_ratio=MAX_RATIO)}
    except TooMuchInflation:
        raise UploadRefused(BOMB, mb=MAX_UNPACKED_MB) from None
    except (zipfile.BadZipFile, NotImplementedError, EOFError, OSError, ValueError,
            RuntimeError):
        raise UploadRefused(DAMAGED) from None


def upload_files(parts: Sequence[tuple[str, bytes]]) -> dict[str, bytes]:
    """{file name: bytes} of the six directory files, from either the six files themselves
    or one ZIP holding exactly them at its root; UploadRefused with one message otherwise."""
    parts = [(_basename(name), data) for name, data in parts if name]
    if not parts:
        raise UploadRefused(NO_FILES)
    if sum(len(data) for _, data in parts) > MAX_UPLOAD_BYTES:
        raise UploadRefused(TOO_BIG, mb=MAX_UPLOAD_MB)
    zips = [name for name, data in parts if data.startswith(ZIP_MAGIC)]
    if zips and len(parts) > 1:
        raise UploadRefused(MIXED)
    if zips:
        files = _unzipped(parts[0][1])
    else:
        _checked_names([name.lower() for name, _ in parts])
        files = {name.lower(): data for name, data in parts}
    return files  # an empty file is the import's error (`file:1: missing header row`)
