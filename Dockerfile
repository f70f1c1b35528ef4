# One image for every role of the production topology: web (gunicorn), worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=crm_site.settings.production

WORKDIR /app
RUN useradd --create-home --uid 1000 crm
COPY pyproject.toml requirements.lock README.md ./
COPY crm_site crm_site
COPY customers customers
COPY segmentation segmentation
COPY interactions interactions
COPY campaigns campaigns
RUN pip install --no-cache-dir -c requirements.lock .
COPY . .
# collectstatic needs settings but no secrets of value
RUN SECRET_KEY=collectstatic-only ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput
USER crm
EXPOSE 8000
CMD ["gunicorn", "crm_site.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
