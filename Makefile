# Obmen: `make demo` serves a shop with demo data; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# Links in e-mails and the demo's printed URLs follow the port the shop is served on.
SITE_URL ?= http://127.0.0.1:$(PORT)
export SITE_URL
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: install demo serve test chromium lint messages clean-demo

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

# Debian's Chromium for the browser tests; Playwright never downloads a browser here.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium; }

demo: install
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/python manage.py demo_data --if-empty
	$(MAKE) --no-print-directory serve

serve: install
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/gunicorn shop.wsgi --bind 127.0.0.1:$(PORT) --workers 2 --threads 4 --timeout 120 \
	  --access-logfile - --forwarded-allow-ips 127.0.0.1

test: install chromium
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .

# Each app keeps its own catalog; the root locale/ holds the strings of templates/ only.
messages: install
	for app in shop catalog orders exchange1c; do (cd $$app && ../$(BIN)/django-admin makemessages -l ru --no-location); done
	$(BIN)/django-admin makemessages -l ru --no-location --ignore=.venv --ignore=shop --ignore=catalog \
	  --ignore=orders --ignore=exchange1c --ignore=tests --ignore=bench --ignore=settings
	$(BIN)/django-admin compilemessages --ignore=.venv
