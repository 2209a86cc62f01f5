"""Demo data for a fresh shop (`manage.py demo_data`).

The catalog is loaded the way a real shop gets it: `content` invents a deterministic
Russian catalog from a seed, `commerceml` writes it as the CommerceML 2.08 files 1C sends
(import.xml, offers.xml, import_files/ pictures drawn by `pictures`), and `loader` hands
those files to the 1C importer. `orders` then places a few orders through orders.services.
"""
