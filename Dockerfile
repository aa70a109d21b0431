FROM node:20-bookworm-slim AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY static/scss static/scss
RUN npm run build

FROM python:3.11-slim-bookworm
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY . .
RUN pip install .
COPY --from=assets /app/node_modules/govuk-frontend node_modules/govuk-frontend
COPY --from=assets /app/static/build static/build
# Settings refuse to load without a database; collecting static files never connects to it.
RUN SECRET_KEY=build-only DATABASE_URL=postgres://build-only/unused python manage.py collectstatic --no-input
USER nobody
EXPOSE 8000
# The worker class, threads, timeout (twice DATABASE_STATEMENT_TIMEOUT) and keep-alive are in
# config/gunicorn.conf.py.
CMD ["gunicorn", "config.wsgi", "-c", "config/gunicorn.conf.py", "--bind", "0.0.0.0:8000", "--workers", "3"]
