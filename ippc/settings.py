"""IPPC settings: one module, every deployment difference read from the environment.

Embedded default (nothing set): SQLite in the project folder, local file storage,
Celery tasks executed in-process. Production sets DEBUG=0, SECRET_KEY,
DATABASE_URL, REDIS_URL and (optionally) the S3 bucket variables; see README.
"""

from __future__ import annotations

import ipaddress
import os
import warnings
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF
from csp.constants import UNSAFE_INLINE as CSP_UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

from ippc.env import env_bool, env_float, env_int, env_list, env_optional_float, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

# --- Core ---------------------------------------------------------------------------

DEBUG = env_bool("DEBUG", True)

_DEV_SECRET_KEY = "django-insecure-ippc-embedded-default-do-not-use-in-production"
SECRET_KEY = env_str("SECRET_KEY") or (_DEV_SECRET_KEY if DEBUG else "")
if not DEBUG and (
    not SECRET_KEY
    or SECRET_KEY == _DEV_SECRET_KEY
    or SECRET_KEY.startswith("django-insecure")
    or len(SECRET_KEY) < 50
    or len(set(SECRET_KEY)) < 5
):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random value of at least 50 characters when DEBUG is off. "
        "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(64))'"
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the site's host names when DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

SITE_NAME = env_str("SITE_NAME", "IPPC")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "storages",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    # IPPC, lowest layer first: takedowns -> listings -> brands -> core.
    "core",
    "brands",
    "listings",
    "takedowns",
    "authenticators",
    "gating",
    "portal",
    "axes",  # last, as django-axes asks: its checks see every other app's settings
]

MIDDLEWARE = [
    "core.api.errors.ApiErrorMiddleware",  # outermost: sees every error response, even a middleware's
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "core.middleware.RequestIdMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "core.mfa.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # turns a lockout into our "locked out" page (last: sees it first)
]

ROOT_URLCONF = "ippc.urls"
WSGI_APPLICATION = "ippc.wsgi.application"
ASGI_APPLICATION = "ippc.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.navigation",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default serves several users at once: readers never block the writer (WAL), a
    # transaction takes the write lock when it begins (IMMEDIATE) so two writers queue instead of
    # one failing half-way with "database is locked", and a writer waits up to SQLITE_BUSY_TIMEOUT.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": env_int("SQLITE_BUSY_TIMEOUT", 30),
        **DATABASES["default"].get("OPTIONS", {}),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth ---------------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: a locked-out user name + address is refused before its password is checked.
AUTHENTICATION_BACKENDS = ["core.auth.LockoutBackend", "core.auth.UsernameOrEmailBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3 * 24 * 3600)

# --- I18N ---------------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded files are never served at a public URL: documents go out through views
# that check access (and, on S3, through short-lived signed URLs those views issue).
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or BASE_DIR / "var" / "media")
MEDIA_URL = "/media-not-public/"

S3_BUCKET = env_str("AWS_STORAGE_BUCKET_NAME")
if S3_BUCKET:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL") or None,
            "region_name": env_str("AWS_S3_REGION_NAME") or None,
            "access_key": env_str("AWS_ACCESS_KEY_ID") or None,
            "secret_key": env_str("AWS_SECRET_ACCESS_KEY") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": env_int("AWS_QUERYSTRING_EXPIRE", 300),
            "file_overwrite": False,
            "location": env_str("AWS_LOCATION"),
            "addressing_style": env_str("AWS_S3_ADDRESSING_STYLE") or None,
            # Signature V4: V2 signed URLs are refused by newer AWS regions and many S3-compatible stores.
            "signature_version": "s3v4",
        },
    }
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT, "base_url": MEDIA_URL},
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
if DEBUG:
    # Static files come straight from the app folders (finders) in development; there is
    # no collected STATIC_ROOT to complain about.
    WHITENOISE_USE_FINDERS = True
    WHITENOISE_AUTOREFRESH = True
    warnings.filterwarnings("ignore", message="No directory at", module="whitenoise.base")
# Uploaded evidence and reference images: checked by content, size-capped, never public.
DOCUMENT_MAX_BYTES = env_int("DOCUMENT_MAX_BYTES", 20 * 1024 * 1024)
IMAGE_MAX_PIXELS = env_int("IMAGE_MAX_PIXELS", 50_000_000)
# Listing images fetched by URL: never from private, loopback or link-local addresses unless
# listed here (CIDRs; tests allow 127.0.0.0/8 for their own image server).
IMAGE_FETCH_ALLOWED_NETWORKS = env_list("IMAGE_FETCH_ALLOWED_NETWORKS")
IMAGE_FETCH_TIMEOUT = env_int("IMAGE_FETCH_TIMEOUT", 10)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Matching (thresholds set from bench/matching_bench.py at a fixed precision) ------------

# Perceptual hashes within this Hamming distance (of 64 bits) of a reference are candidates.
MATCH_HASH_RADIUS = env_int("MATCH_HASH_RADIUS", 10)
# Local features: geometrically consistent keypoints needed to accept a photo match (crops,
# collages) and a logo match. At 10 / 8 the benchmark saw no false match (precision 1.00).
MATCH_MIN_INLIERS = env_int("MATCH_MIN_INLIERS", 10)
MATCH_LOGO_MIN_INLIERS = env_int("MATCH_LOGO_MIN_INLIERS", 8)
# The learned logo stage (engine/logo_model.py): a detected mark names a logo when their embeddings'
# cosine similarity reaches MATCH_LOGO_SIMILARITY and beats every other logo by MATCH_LOGO_MARGIN
# (chosen on bench/logo_bench.py's tune split; figures in bench/README.md).
MATCH_LOGO_MODEL = env_bool("MATCH_LOGO_MODEL", True)  # off: the geometric logo check alone (~9 ms less per image)
# Text printed in listing photos (engine/ocr.py) goes through the word-mark and counterfeit-term signals.
# Each photo is read once (the reading is stored on the image); ~20 ms for a photo the gate finds no
# text in, ~150-250 ms for one it reads (bench/README.md, "Text in photos"). Off: photos are not read.
MATCH_OCR = env_bool("MATCH_OCR", True)
MATCH_LOGO_SIMILARITY = env_float("MATCH_LOGO_SIMILARITY", 0.76)
MATCH_LOGO_MARGIN = env_float("MATCH_LOGO_MARGIN", 0.08)
# ... and beats by MATCH_LOGO_COHORT_MARGIN every mark of the embedder's cohort (the marks it was
# trained on, none of them registered here: stand-ins for the brands this platform does not know).
# "off": no cohort.
MATCH_LOGO_COHORT_MARGIN = env_optional_float("MATCH_LOGO_COHORT_MARGIN", 0.02)
# A detected mark that does not name a logo by its look alone is checked keypoint by keypoint against
# the logo it is most like when their similarity reaches MATCH_LOGO_BOX_SIMILARITY (signal "logo_box";
# chosen on the tune split like the others).
MATCH_LOGO_BOX_SIMILARITY = env_float("MATCH_LOGO_BOX_SIMILARITY", 0.5)
# An image match below this score is not reported. Text alone needs MATCH_TEXT_MIN_SCORE: a word
# mark by itself scores 0.5 (resellers name brands too), so it takes a counterfeit term or a
# price far below the brand's range as well.
MATCH_IMAGE_MIN_SCORE = env_float("MATCH_IMAGE_MIN_SCORE", 0.5)
MATCH_TEXT_MIN_SCORE = env_float("MATCH_TEXT_MIN_SCORE", 0.6)
# How often a worker checks PostgreSQL for new or removed references (seconds): a new
# reference is matchable within this long without any rebuild.
MATCH_INDEX_REFRESH_SECONDS = env_float("MATCH_INDEX_REFRESH_SECONDS", 1.0)
MATCH_BATCH_SIZE = env_int("MATCH_BATCH_SIZE", 25)  # listings per matching task
MATCH_BACKSCAN_CHUNK = env_int("MATCH_BACKSCAN_CHUNK", 50)  # listing ids per back-scan task (~2 s of work:
# a worker finishes one before it takes a fresh listing from the match queue)
# Stay-down: a listing image matching an image of a removed listing is re-listed content only if it is
# the same picture (engine/relisting.py): laid onto it as the match says, their colours differ by at
# most STAYDOWN_MAX_DIFFERENCE on average (0-255) over at least STAYDOWN_MIN_OVERLAP of the removed
# image. Copies of a photo (re-encoded, cropped, mirrored, in a collage, captioned, turned): 0.4-8.9;
# the demo's look-alike drawings: 6.5-73, 4 of 224 pairs below 10 (bench/README.md, "Stay-down").
STAYDOWN_MAX_DIFFERENCE = env_float("STAYDOWN_MAX_DIFFERENCE", 10.0)
STAYDOWN_MIN_OVERLAP = env_float("STAYDOWN_MIN_OVERLAP", 0.2)
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 10 * 1024 * 1024)
# Detection that learns from decisions (listings/feedback.py, listings/calibration.py; README "Feedback and
# calibration"). A dismissed or rejected detection is not raised again for the same seller on the same
# picture or a near-identical copy: perceptual hashes within FEEDBACK_HASH_RADIUS bits (the matcher's radius).
FEEDBACK_HASH_RADIUS = env_int("FEEDBACK_HASH_RADIUS", MATCH_HASH_RADIUS)
# A reference dismissed this many times, on this many sellers' listings, earns the brand a suggestion.
FEEDBACK_SUGGEST_MIN_DISMISSALS = env_int("FEEDBACK_SUGGEST_MIN_DISMISSALS", 3)
FEEDBACK_SUGGEST_MIN_SELLERS = env_int("FEEDBACK_SUGGEST_MIN_SELLERS", 2)
# Per-brand thresholds: a signal is calibrated once the brand decided this many of its detections;
# recomputed this many seconds after a decision (debounced) and by the periodic job.
CALIBRATION_MIN_DECISIONS = env_int("CALIBRATION_MIN_DECISIONS", 20)
CALIBRATION_DEBOUNCE = env_int("CALIBRATION_DEBOUNCE", 60)

# --- Notice and takedown policy (published to complainants and sellers) ------------------

TAKEDOWN_SLA_HOURS = env_int("TAKEDOWN_SLA_HOURS", 48)  # a notice is decided within this
TAKEDOWN_FAST_TRACK_SLA_HOURS = env_int("TAKEDOWN_FAST_TRACK_SLA_HOURS", 12)
TAKEDOWN_CLAIM_MINUTES = env_int("TAKEDOWN_CLAIM_MINUTES", 30)  # a moderator's claim lapses after this
TAKEDOWN_CONTEST_DAYS = env_int("TAKEDOWN_CONTEST_DAYS", 30)  # seller's window for a counter-notice/appeal
TAKEDOWN_RESPONSE_BUSINESS_DAYS = env_int("TAKEDOWN_RESPONSE_BUSINESS_DAYS", 10)  # complainant: show legal action
TAKEDOWN_MAX_ITEMS = env_int("TAKEDOWN_MAX_ITEMS", 500)  # listings per notice (bulk filing)
STRIKE_LIMIT = env_int("STRIKE_LIMIT", 3)  # this many strikes within the window suspend the seller
STRIKE_WINDOW_DAYS = env_int("STRIKE_WINDOW_DAYS", 180)
SUSPENSION_APPEAL_DAYS = env_int("SUSPENSION_APPEAL_DAYS", 30)
# Complainant accuracy = approved / decided over the window, once there are enough decisions.
ACCURACY_WINDOW_DAYS = env_int("ACCURACY_WINDOW_DAYS", 180)
ACCURACY_MIN_DECISIONS = env_int("ACCURACY_MIN_DECISIONS", 20)
FAST_TRACK_MIN_ACCURACY = env_float("FAST_TRACK_MIN_ACCURACY", 0.90)
# Auto-approval (fast-track brands that opted in): items backed by a detection at least this sure.
AUTO_APPROVE_MIN_SCORE = env_float("AUTO_APPROVE_MIN_SCORE", 0.9)
# Fast-track brands find a draft notice (to sign and submit) for new detections at least this sure.
FAST_TRACK_DRAFT_MIN_SCORE = env_float("FAST_TRACK_DRAFT_MIN_SCORE", 0.8)
MISUSE_MAX_ACCURACY = env_float("MISUSE_MAX_ACCURACY", 0.50)  # below this: warning, then suspension
MISUSE_GRACE_DECISIONS = env_int("MISUSE_GRACE_DECISIONS", 5)  # decisions after a warning before suspending
MISUSE_SUSPENSION_DAYS = env_int("MISUSE_SUSPENSION_DAYS", 30)
# Webhooks: signed POSTs retried with exponential backoff on the notify queue.
WEBHOOK_TIMEOUT_SECONDS = env_float("WEBHOOK_TIMEOUT_SECONDS", 10.0)
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 8)
WEBHOOK_BACKOFF_SECONDS = env_int("WEBHOOK_BACKOFF_SECONDS", 30)  # doubled per attempt, capped at 6 h
# Networks webhook URLs may reach although private (tests; a deliberately internal receiver). CIDRs, comma-separated.
WEBHOOK_ALLOWED_NETWORKS = tuple(n.strip() for n in env_str("WEBHOOK_ALLOWED_NETWORKS").split(",") if n.strip())

# --- Brand protection policy -------------------------------------------------------

# Markets this marketplace sells into (ISO 3166 codes; "EU" stands for every member state):
# a right that covers none of them is flagged to the brand and the moderator.
MARKETPLACE_MARKETS = env_list("MARKETPLACE_MARKETS", ["US", "EU", "GB"])
# Days before a verified right's end date when the brand's managers are reminded.
RIGHT_EXPIRY_REMINDER_DAYS = (30, 7)
RIGHT_EXPIRING_SOON_DAYS = 30

# --- Email --------------------------------------------------------------------------

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))  # for the filebased backend
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")

# The client's real address (core.client_ip): X-Forwarded-For is believed only as far as our own
# proxies. TRUSTED_PROXY_COUNT: how many proxies of ours are in front of the app; or TRUSTED_PROXIES:
# their networks. Neither (the default): the address is REMOTE_ADDR and the header is ignored.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more.")
for _network in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError as _exc:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {_network!r} is not an address or network ({_exc}).") from None

# Password guessing (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one user name from
# one client address, that pair is locked for LOGIN_LOCKOUT_MINUTES (web login, admin and the API
# token endpoint alike); a password reset by email unlocks it at once.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "core.client_ip.client_ip"
AXES_USERNAME_CALLABLE = "core.auth.login_key"
AXES_LOCKOUT_CALLABLE = "core.lockout.locked_out"
AXES_VERBOSE = False
AXES_HTTP_RESPONSE_CODE = 429

# Second factor (django-otp: TOTP authenticator apps, single-use recovery codes). Required of
# moderators and platform admins (MFA_REQUIRED_FOR_STAFF), optional for everyone else; a user who
# has one must use it at every log-in, and API tokens are handed out only after it.
MFA_REQUIRED_FOR_STAFF = env_bool("MFA_REQUIRED_FOR_STAFF", True)
MFA_RECOVERY_CODES = 10
OTP_TOTP_ISSUER = SITE_NAME
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # the Django admin never shows a device's secret key

EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "IPPC <noreply@ippc.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Security (production) ----------------------------------------------------------

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    # Behind a TLS-terminating proxy (nginx, a load balancer) that sets X-Forwarded-Proto.
    if env_bool("SECURE_PROXY_SSL_HEADER", True):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

# Content-Security-Policy (django-csp): scripts and styles only from our own origin, no inline
# script anywhere (nonces where a page needs one), style attributes allowed (they run nothing).
# Pictures may come from S3 when files are redirected there (CSP_MEDIA_ORIGINS, derived below).
CSP_MEDIA_ORIGINS = env_list("CSP_MEDIA_ORIGINS")
if not CSP_MEDIA_ORIGINS and env_str("AWS_STORAGE_BUCKET_NAME"):
    _endpoint = env_str("AWS_S3_ENDPOINT_URL")
    CSP_MEDIA_ORIGINS = [_endpoint.rstrip("/")] if _endpoint else ["https://*.amazonaws.com"]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [CSP_SELF],
        "script-src": [CSP_SELF],
        "style-src": [CSP_SELF],
        "style-src-attr": [CSP_UNSAFE_INLINE],
        "img-src": [CSP_SELF, "data:", *CSP_MEDIA_ORIGINS],
        "font-src": [CSP_SELF, "data:"],
        "connect-src": [CSP_SELF],
        "worker-src": [CSP_SELF],
        "object-src": [CSP_NONE],
        "base-uri": [CSP_SELF],
        "form-action": [CSP_SELF],
        "frame-ancestors": [CSP_NONE],
    }
}

# --- REST API -----------------------------------------------------------------------

REST_FRAMEWORK = {
    # Token first so that an anonymous API call gets 401 with a WWW-Authenticate header.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "core.api.filters.FilterBackend",  # filters by id take plain ids (core.api.filters)
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "core.api.throttling.AnonThrottle",  # keyed on the real client address (core.client_ip)
        "core.api.throttling.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "60/min"),
        "user": env_str("API_THROTTLE_USER", "6000/min"),
        "ingest": env_str("API_THROTTLE_INGEST", "600/min"),
        "login": env_str("API_THROTTLE_LOGIN", "20/min"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "EXCEPTION_HANDLER": "core.api.exceptions.exception_handler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "IPPC API",
    "DESCRIPTION": (
        "Intellectual Property Protection Center: brands, IP rights, listings, detections and "
        "the notice-and-takedown workflow. Authenticate with `Authorization: Token <key>` "
        "(POST /api/v1/auth/token/) or a browser session.\n\n"
        "Errors are JSON: `{detail, code?, request_id?}` (`Error`), or the fields' messages for invalid input "
        "(`ValidationError`, 400). A refused workflow move is a 400 with the reason; a move that lost to "
        "someone else a 409 with a `code`. 429 and 503 carry `Retry-After`. JSON bodies are read strictly "
        "(text where text is expected, true/false, whole numbers). An empty query parameter (`?page_size=`) "
        "is the parameter left out. No text may contain the NUL character."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "VerificationStatusEnum": "brands.models.VerificationStatus",
        "JobStatusEnum": "brands.models.Job.Status",
        "FeatureStatusEnum": "brands.models.ReferenceAsset.FeatureStatus",
        "RightKindEnum": "brands.models.IPRight.Kind",
        "DocumentKindEnum": "brands.models.IPDocument.Kind",
        "AssetKindEnum": "brands.models.ReferenceAsset.Kind",
        "OfficeEnum": "brands.models.Office",
        "MembershipRoleEnum": "brands.models.Membership.Role",
        "ListingStatusEnum": "listings.models.Listing.Status",
        "SellerStatusEnum": "listings.models.Seller.Status",
        "ListingImageStatusEnum": "listings.models.ListingImage.Status",
        "ApprovalDocumentKindEnum": "gating.models.ApprovalDocument.Kind",
        "CertificateStateEnum": "authenticators.models.Certificate.State",
        "DetectionStateEnum": "listings.models.Detection.State",
        "CertificateVerdictEnum": "authenticators.models.Certificate.Verdict",
        "AuthenticatorStatusEnum": "authenticators.models.Authenticator.Status",
    },
}

# --- Cache --------------------------------------------------------------------------

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    # Degrades to no cache (logged) while Redis is down, so throttled API calls keep answering.
    # Its keys live under CACHE_KEY_PREFIX, so that clearing it never touches the broker's keys
    # (CELERY_BROKER_URL defaults to the same Redis database) and several deployments can share one
    # Redis. `make test` runs in parallel processes (pytest-xdist sets PYTEST_XDIST_WORKER in each,
    # and the workers and servers they start inherit it): each keeps its keys apart, or throttle
    # counters keyed by user id and address would count one process's requests against another's.
    _test_process = os.environ.get("PYTEST_XDIST_WORKER")
    _cache_prefix = (
        f"ippc-test-{_test_process}-{os.environ.get('PYTEST_XDIST_TESTRUNUID', '')[:8]}" if _test_process else "ippc"
    )
    CACHES = {
        "default": {
            "BACKEND": "core.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", _cache_prefix),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery -------------------------------------------------------------------------

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or REDIS_URL
# Without a broker every task runs in-process, so the embedded default needs no server.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://localhost/"
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Task state users care about is stored in our own tables; Celery results are not kept.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A killed worker costs minutes, not an hour. Tasks are acknowledged when they end (acks_late); one
# whose worker process died is re-queued at once (reject_on_worker_lost); one whose whole worker died
# is handed out again by the broker after the visibility timeout. So every task has a hard time
# limit below that timeout (a task still running is never handed out twice), and the timeout is a
# few minutes. Per-task limits (annotations) fit each task's work; see README "Reliability".
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 150)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 130)
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 180)
if CELERY_VISIBILITY_TIMEOUT <= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured(
        f"CELERY_VISIBILITY_TIMEOUT ({CELERY_VISIBILITY_TIMEOUT}s) must exceed CELERY_TASK_TIME_LIMIT "
        f"({CELERY_TASK_TIME_LIMIT}s), or a task still running would be handed to a second worker."
    )
# Countdown (ETA) tasks wait unacknowledged in a worker: never longer than half the timeout.
CELERY_MAX_COUNTDOWN = CELERY_VISIBILITY_TIMEOUT // 2
# Shorter limits for short tasks; never above the default (so always under the visibility timeout).
CELERY_TASK_ANNOTATIONS = {
    name: {
        "time_limit": min(hard, CELERY_TASK_TIME_LIMIT),
        "soft_time_limit": min(soft, CELERY_TASK_SOFT_TIME_LIMIT, CELERY_TASK_TIME_LIMIT - 1),
    }
    for name, (hard, soft) in {
        "listings.listing_image_fetch": (90, 75),
        "listings.listings_match": (120, 100),
        "takedowns.notification_email": (60, 45),
        "takedowns.webhook_deliver": (90, 75),
        "listings.detections_notify": (60, 45),
        "brands.membership_send_invitation": (60, 45),
        "core.worker_heartbeat": (30, 20),
    }.items()
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = env_float("CELERY_BROKER_CONNECTION_TIMEOUT", 2.0)
# A request that sends a task must not hang while the broker is down: a short retry, then the task
# waits in the outbox (core.outbox) for the sweep.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "global_keyprefix": env_str("CELERY_KEY_PREFIX"),
    "socket_connect_timeout": 2,
    "socket_timeout": 10,
}
# The outbox and the sweep (core.outbox, core.sweep): a task not taken by the broker right after
# its commit is sent again after OUTBOX_RELAY_AFTER seconds (backoff after that); pending rows
# (listings, images, jobs, announcements, emails) waiting longer than SWEEP_STALE_AFTER are queued
# again. The sweep runs every SWEEP_INTERVAL seconds (beat, or the in-process scheduler).
OUTBOX_RELAY_AFTER = env_int("OUTBOX_RELAY_AFTER", 30)
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 20)
OUTBOX_BREAKER_SECONDS = env_float("OUTBOX_BREAKER_SECONDS", 5.0)
OUTBOX_RELAY_BATCH = env_int("OUTBOX_RELAY_BATCH", 2000)
SWEEP_INTERVAL = env_int("SWEEP_INTERVAL", 60)
SWEEP_STALE_AFTER = env_int("SWEEP_STALE_AFTER", CELERY_VISIBILITY_TIMEOUT + 60)
SWEEP_BATCH = env_int("SWEEP_BATCH", 5000)
SWEEP_BACKLOG = env_int("SWEEP_BACKLOG", 50)  # messages on a queue from which on its pending rows wait
# New detections are announced this many seconds after they are found, so one email tells a
# brand about a burst (each announcement claims every detection not yet announced).
ANNOUNCE_DELAY = env_int("ANNOUNCE_DELAY", 30)
# Periodic jobs inside the web process when there is no broker (core.scheduler): on under
# `manage.py runserver` without a broker; EMBEDDED_SCHEDULER=true/false forces it on or off.
EMBEDDED_SCHEDULER = env_bool("EMBEDDED_SCHEDULER", True) if env_str("EMBEDDED_SCHEDULER") else None
API_RETRY_AFTER = env_int("API_RETRY_AFTER", 5)  # seconds, in 503 answers during an outage
IMAGE_FETCH_MAX_ATTEMPTS = 6  # listings.listing_image_fetch: the first try and max_retries (5)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = TIME_ZONE
# Named queues: ingest (listings in, images fetched), match (hashing, matching), backscan (a new
# reference against the stored listings),
# notify (email, webhooks), maintenance (periodic housekeeping, the default queue).
TASK_QUEUES = ("ingest", "match", "backscan", "notify", "maintenance")
CELERY_TASK_DEFAULT_QUEUE = "maintenance"
# Which queue each task goes to, in one place (names are the tasks' `name=`).
CELERY_TASK_ROUTES = {
    "brands.membership_send_invitation": {"queue": "notify"},
    "brands.right_send_notice": {"queue": "notify"},
    "brands.asset_process": {"queue": "match"},
    "brands.rights_expire_and_remind": {"queue": "maintenance"},
    "listings.listing_image_fetch": {"queue": "ingest"},
    "listings.saved_searches_run": {"queue": "maintenance"},
    "listings.saved_search_notify": {"queue": "notify"},
    "listings.listings_match": {"queue": "match"},
    # Its own queue: a worker reading both takes from each in turn, so a back-scan of millions of
    # stored listings never holds up the matching of listings that just came in.
    "listings.asset_backscan": {"queue": "backscan"},
    "listings.detections_notify": {"queue": "notify"},
    "takedowns.notification_email": {"queue": "notify"},
    "takedowns.webhook_deliver": {"queue": "notify"},
    "takedowns.deadlines_run": {"queue": "maintenance"},
    "listings.calibration_recompute": {"queue": "maintenance"},
    "listings.calibrations_recompute_all": {"queue": "maintenance"},
    # Copying a removed listing's images into stay-down references (their features then on match).
    "takedowns.staydown_create": {"queue": "match"},
    "core.worker_heartbeat": {"queue": "maintenance"},  # beat sends one to every queue explicitly
    "core.pending_sweep": {"queue": "maintenance"},
    # Gated brands: holding and releasing listings follows matching and certificates.
    "gating.holds_check": {"queue": "match"},
    "gating.gate_apply": {"queue": "match"},
    "gating.listing_recheck": {"queue": "match"},
    "gating.certificate_linked": {"queue": "match"},
    "gating.certificate_reused": {"queue": "match"},
    "gating.gates_apply_due": {"queue": "maintenance"},
}
HEARTBEAT_INTERVAL = env_int("HEARTBEAT_INTERVAL", 60)
CELERY_BEAT_SCHEDULE = {
    f"heartbeat-{queue}": {
        "task": "core.worker_heartbeat",
        "schedule": float(HEARTBEAT_INTERVAL),
        "args": [queue],
        # A heartbeat nobody picked up before the next one is stale: drop it rather than pile up.
        "options": {"queue": queue, "expires": max(HEARTBEAT_INTERVAL - 1, 1)},
    }
    for queue in TASK_QUEUES
}
CELERY_BEAT_SCHEDULE["saved-searches"] = {
    "task": "listings.saved_searches_run",
    "schedule": float(env_int("SAVED_SEARCH_INTERVAL", 3600)),
    "options": {"expires": 1800},
}
CELERY_BEAT_SCHEDULE["rights-expire-and-remind"] = {
    "task": "brands.rights_expire_and_remind",
    "schedule": crontab(hour=2, minute=30),
    "options": {"expires": 6 * 3600},
}

CELERY_BEAT_SCHEDULE["pending-sweep"] = {
    # The outbox relay and the re-queue of pending work whose task was lost (core.sweep).
    "task": "core.pending_sweep",
    "schedule": float(SWEEP_INTERVAL),
    "options": {"expires": max(SWEEP_INTERVAL - 1, 1)},
}
CELERY_BEAT_SCHEDULE["detection-calibration"] = {
    # Every brand's per-signal thresholds from its decisions (a lost debounced run is made good here).
    "task": "listings.calibrations_recompute_all",
    "schedule": float(env_int("CALIBRATION_INTERVAL", 3600)),
    "options": {"expires": 1800},
}
CELERY_BEAT_SCHEDULE["gates-apply-due"] = {
    # Gates whose start date has come: hold the listings their brand's detections attribute to them.
    "task": "gating.gates_apply_due",
    "schedule": float(env_int("GATES_APPLY_INTERVAL", 3600)),
    "options": {"expires": 1800},
}
CELERY_BEAT_SCHEDULE["takedown-deadlines"] = {
    # Reinstatements whose response window passed, lapsed claims, suspensions that ended.
    "task": "takedowns.deadlines_run",
    "schedule": float(env_int("TAKEDOWN_DEADLINES_INTERVAL", 300)),
    "options": {"expires": 240},
}

# --- Logging ------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # In-process tasks would log every run into the web server's console.
        "celery.app.trace": {"level": "WARNING" if CELERY_TASK_ALWAYS_EAGER else "INFO"},
    },
}
