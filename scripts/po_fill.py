"""Fill English translations into locale/en from a JSON map {russian msgid or its prefix: english}.

Usage: python scripts/po_fill.py translations.json   (then `make i18n` compiles)
Also: python scripts/po_fill.py --missing   lists msgids still untranslated.
"""

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parent.parent / "locale/en/LC_MESSAGES/messages.po"


def main() -> int:
    with PO.open("rb") as fh:
        catalog = read_po(fh, locale="en")
    if sys.argv[1:] == ["--missing"]:
        missing = [m.id for m in catalog if m.id and not m.string]
        for msgid in missing:
            print(json.dumps(msgid, ensure_ascii=False))
        return 1 if missing else 0
    mapping = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    for message in catalog:
        if not message.id:
            continue
        for key, value in mapping.items():
            if message.id == key or (len(key) > 20 and message.id.startswith(key)):
                message.string = value
                message.flags.discard("fuzzy")
    with PO.open("wb") as fh:
        write_po(fh, catalog, width=100, omit_header=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
