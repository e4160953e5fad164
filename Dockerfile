# One image for web, worker and beat (docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
RUN useradd --create-home --uid 1000 volt && mkdir -p /app/var && chown -R volt /app/var \
    && SECRET_KEY=build-only ENVIRONMENT=production ALLOWED_HOSTS=build python manage.py collectstatic --noinput
USER volt

EXPOSE 8000
# No access log: it would print every upload's token (docs/operations.md, "Upload tokens and access logs").
CMD ["gunicorn", "volttracker.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
