"""A labelled set for redaction: secrets of common kinds as agents write them, and look-alikes.

Every credential is generated at import time from a seeded RNG, so no real-looking secret
literal sits in the repository. A secret case lists the fragments that must not survive
redaction; a look-alike must come back unchanged. Shared by tests/test_redaction.py and
benchmarks/redaction.py.
"""

from __future__ import annotations

import base64
import json
import random
import string
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

SEED = 20261207
rng = random.Random(SEED)
ALNUM = string.ascii_letters + string.digits
UPPER = string.ascii_uppercase + string.digits
LOWER = string.ascii_lowercase + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "-_"


def rand(n: int, alphabet: str = ALNUM) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def b64(nbytes: int) -> str:
    return base64.b64encode(rng.randbytes(nbytes)).decode()


def password(n: int = 14) -> str:
    """A human-style strong password: letters, digits and a few symbols, never a plain word."""
    core = rand(n - 3, ALNUM + "!@#%^*-_")
    return rand(1, string.ascii_uppercase) + core + rand(1, string.digits) + rand(1, "!#%*")


def token_jwt() -> str:
    """A JSON Web Token whose header and claims decode, as real ones do."""
    claims = {
        "sub": uuid(),
        "iat": rng.randint(1_700_000_000, 1_800_000_000),
        "scope": "read write",
    }
    parts = [{"alg": "HS256", "typ": "JWT"}, claims]
    encoded = [
        base64.urlsafe_b64encode(json.dumps(p).encode()).rstrip(b"=").decode() for p in parts
    ]
    return ".".join([*encoded, rand(43, URLSAFE)])


def uuid() -> str:
    h = rand(32, HEX)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


@dataclass(frozen=True)
class Case:
    kind: str
    form: str  # prose, env, yaml, json, shell, url, header, python, config, xml, trick
    text: str
    secrets: tuple[str, ...] = ()  # fragments that must be gone; empty for a look-alike


SECRETS: list[Case] = []
LOOKALIKES: list[Case] = []


def secret(kind: str, form: str, text: str, *fragments: str) -> None:
    SECRETS.append(Case(kind, form, text, fragments))


def keep(kind: str, form: str, text: str) -> None:
    LOOKALIKES.append(Case(kind, form, text))


def _write_cases() -> None:
    """Append every case to SECRETS and LOOKALIKES, drawing from `rng`."""
    # --- cloud providers -------------------------------------------------------------------------
    for prefix, form, template in [
        ("AKIA", "env", "export AWS_ACCESS_KEY_ID={}"),
        ("ASIA", "config", "[default]\naws_access_key_id = {}\nregion = eu-west-1"),
        ("AKIA", "prose", "I created the deploy user and its key {} works for the bucket now."),
        ("ASIA", "json", '{{"Credentials": {{"AccessKeyId": "{}", "Expiration": "2026-01-01"}}}}'),
    ]:
        key = prefix + rand(16, UPPER)
        secret("aws_access_key", form, template.format(key), key)

    for form, template in [
        ("config", "aws_secret_access_key = {}"),
        ("prose", "the secret key is {} and it belongs to the ci user"),
        ("shell", "aws configure set aws_secret_access_key {} --profile prod"),
        ("yaml", 'env:\n  AWS_SECRET_ACCESS_KEY: "{}"'),
        ("prose", "Secret access key: {} (rotate after the demo)"),
        ("python", 's3 = boto3.client("s3", aws_access_key_id=kid, aws_secret_access_key="{}")'),
    ]:
        key = rand(40, B64)
        secret("aws_secret_key", form, template.format(key), key)

    key_id, key = "AKIA" + rand(16, UPPER), rand(40, B64)
    secret(
        "aws_secret_key", "prose", f"AWS creds for the backup job: {key_id} / {key}", key_id, key
    )
    account_key, bus_key = b64(64), b64(32)
    secret(
        "azure_storage_key",
        "config",
        "DefaultEndpointsProtocol=https;AccountName=stdemo01;"
        f"AccountKey={account_key};EndpointSuffix=core.windows.net",
        account_key,
    )
    account_key2 = b64(64)
    secret(
        "azure_storage_key",
        "env",
        f'AZURE_STORAGE_CONNECTION_STRING="AccountName=logs;AccountKey={account_key2}"',
        account_key2,
    )
    secret(
        "azure_service_bus_key",
        "config",
        "Endpoint=sb://orders.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;"
        f"SharedAccessKey={bus_key}",
        bus_key,
    )
    sig = b64(32).replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
    secret(
        "azure_sas",
        "url",
        f"download it from https://stdemo.blob.core.windows.net/exports/report.csv?sv=2022-11-02"
        f"&ss=b&srt=o&sp=r&se=2026-03-01T00:00:00Z&sig={sig}",
        sig,
    )
    azure_secret = rand(3, ALNUM) + "8Q~" + rand(34, URLSAFE + ".~")
    secret("azure_client_secret", "env", f"AZURE_CLIENT_SECRET={azure_secret}", azure_secret)
    azure_secret2 = rand(3, ALNUM) + "7Q~" + rand(31, URLSAFE + ".~")
    secret(
        "azure_client_secret",
        "prose",
        f"The app registration's client secret value is {azure_secret2}.",
        azure_secret2,
    )

    gcp_body = "\\n".join(b64(48) for _ in range(4))
    gcp = {
        "type": "service_account",
        "project_id": "demo-project",
        "private_key_id": rand(40, HEX),
        "private_key": f"-----BEGIN PRIVATE KEY-----\\n{gcp_body}\\n-----END PRIVATE KEY-----\\n",
    }
    secret(
        "private_key",
        "json",
        json.dumps(gcp, indent=2).replace("\\\\n", "\\n"),
        *gcp_body.split("\\n"),
    )
    oauth_secret = "GOCSPX-" + rand(28, URLSAFE)
    secret(
        "google_oauth",
        "json",
        f'{{"client_id": "x.apps.example", "client_secret": "{oauth_secret}"}}',
        oauth_secret,
    )
    google_key = "AIza" + rand(35, URLSAFE)
    secret(
        "google_api_key",
        "url",
        f"https://maps.example.com/api/geocode/json?address=x&key={google_key}",
        google_key,
    )
    google_key = "AIza" + rand(35, URLSAFE)
    secret("google_api_key", "python", f'genai.configure(api_key="{google_key}")', google_key)

    # --- code hosting and package registries -----------------------------------------------------
    for prefix, form, template in [
        ("ghp", "header", "curl -H 'Authorization: token {}' https://api.github.com/user"),
        ("gho", "env", "GH_TOKEN={}"),
        ("ghs", "yaml", "steps:\n  - run: gh release create v1\n    env:\n      GITHUB_TOKEN: {}"),
        (
            "ghu",
            "url",
            "git remote set-url origin https://x-access-token:{}@github.com/acme/api.git",
        ),
    ]:
        token = f"{prefix}_{rand(36)}"
        secret("github_token", form, template.format(token), token)
    pat = f"github_pat_{rand(22)}_{rand(59)}"
    secret("github_token", "prose", f"my fine-grained PAT is {pat}, scoped to the infra repo", pat)

    for prefix, form, template in [
        (
            "glpat",
            "header",
            'curl --header "PRIVATE-TOKEN: {}" https://gitlab.example.com/api/v4/projects',
        ),
        ("glpat", "env", "GITLAB_TOKEN={}"),
        ("gldt", "prose", "use the deploy token {} to pull the registry image"),
        ("glrt", "yaml", "runners:\n  token: {}"),
    ]:
        token = f"{prefix}-{rand(20, URLSAFE)}"
        secret("gitlab_token", form, template.format(token), token)

    npm = "npm_" + rand(36)
    secret("npm_token", "env", f"NPM_TOKEN={npm}", npm)
    npm = "npm_" + rand(36)
    secret("npm_token", "config", f"//registry.npmjs.org/:_authToken={npm}", npm)
    pypi = "pypi-AgEIcHlwaS5vcmc" + rand(60, URLSAFE)
    secret("pypi_token", "config", f"[pypi]\nusername = __token__\npassword = {pypi}", pypi)
    pypi = "pypi-AgEIcHlwaS5vcmc" + rand(70, URLSAFE)
    secret("pypi_token", "shell", f"twine upload -u __token__ -p {pypi} dist/*", pypi)
    pypi = "pypi-AgEIcHlwaS5vcmc" + rand(70, URLSAFE)
    secret("pypi_token", "env", f"export TWINE_PASSWORD='{pypi}'", pypi)
    hf = "hf_" + rand(34)
    secret("huggingface_token", "env", f"HF_TOKEN={hf}", hf)
    hf = "hf_" + rand(34)
    secret(
        "huggingface_token",
        "shell",
        f"huggingface-cli login --token {hf} --add-to-git-credential",
        hf,
    )
    hf = "hf_" + rand(34)
    secret(
        "huggingface_token", "python", f'from huggingface_hub import login\nlogin(token="{hf}")', hf
    )

    # --- AI providers ----------------------------------------------------------------------------
    for form, template in [
        ("python", 'client = OpenAI(api_key="{}")'),
        ("env", "OPENAI_API_KEY={}"),
        ("prose", "Switched the eval runner to the new project key {} yesterday."),
    ]:
        key = "sk-proj-" + rand(48, URLSAFE)
        secret("openai_key", form, template.format(key), key)
    for form, template in [
        ("env", "export ANTHROPIC_API_KEY={}"),
        ("header", "curl https://api.anthropic.com/v1/messages -H 'x-api-key: {}'"),
        ("json", '{{"env": {{"ANTHROPIC_API_KEY": "{}"}}}}'),
    ]:
        key = "sk-ant-api03-" + rand(93, URLSAFE)
        secret("anthropic_key", form, template.format(key), key)
    groq = "gsk_" + rand(52)
    secret("ai_api_key", "env", f"GROQ_API_KEY={groq}", groq)
    replicate = "r8_" + rand(37)
    secret("ai_api_key", "shell", f"export REPLICATE_API_TOKEN={replicate}", replicate)
    mistral = rand(32)
    secret(
        "generic_api_key",
        "prose",
        f"The Mistral API key is {mistral} for the staging workspace.",
        mistral,
    )

    # --- chat, mail, payments, SaaS --------------------------------------------------------------
    for prefix, form, template in [
        ("xoxb", "env", "SLACK_BOT_TOKEN={}"),
        ("xoxp", "python", 'client = WebClient(token="{}")'),
    ]:
        token = f"{prefix}-{rand(12, string.digits)}-{rand(13, string.digits)}-{rand(24)}"
        secret("slack_token", form, template.format(token), token)
    hook = f"https://hooks.slack.com/services/T{rand(8, UPPER)}/B{rand(10, UPPER)}/{rand(24)}"
    secret("slack_webhook", "shell", f'curl -X POST -d \'{{"text":"deployed"}}\' {hook}', hook)
    discord = f"https://discord.com/api/webhooks/{rand(18, string.digits)}/{rand(68, URLSAFE)}"
    secret("discord_webhook", "env", f"DISCORD_WEBHOOK_URL={discord}", discord.rsplit("/", 1)[-1])
    bot = f"M{rand(25, URLSAFE)}.{rand(6, URLSAFE)}.{rand(38, URLSAFE)}"
    secret("discord_token", "python", f'bot.run("{bot}")', bot)
    telegram = f"{rand(10, string.digits)}:AA{rand(33, URLSAFE)}"
    secret(
        "telegram_bot_token",
        "url",
        f"curl https://api.telegram.org/bot{telegram}/getMe",
        telegram.split(":")[1],
    )
    telegram = f"{rand(9, string.digits)}:AA{rand(33, URLSAFE)}"
    secret("telegram_bot_token", "env", f"TELEGRAM_BOT_TOKEN={telegram}", telegram)

    for prefix, form, template in [
        ("sk_live", "python", "stripe.api_key = '{}'"),
        ("rk_live", "env", "STRIPE_RESTRICTED_KEY={}"),
        ("sk_test", "shell", "curl https://api.stripe.com/v1/charges -u {}:"),
    ]:
        key = f"{prefix}_{rand(99)}"
        secret("stripe_key", form, template.format(key), key)
    for form, template in [
        ("env", "STRIPE_WEBHOOK_SECRET={}"),
        ("prose", "The endpoint signing secret for prod is {} (from the dashboard)."),
    ]:
        key = "whsec_" + rand(32)
        secret("stripe_webhook_secret", form, template.format(key), key)

    for form, template in [
        ("env", "TWILIO_ACCOUNT_SID={sid}\nTWILIO_AUTH_TOKEN={tok}"),
        (
            "python",
            'account_sid = "{sid}"\nauth_token = "{tok}"\nclient = Client(account_sid, auth_token)',
        ),
        ("prose", "Twilio: account {sid}, auth token is {tok}"),
    ]:
        sid, tok = "AC" + rand(32, HEX), rand(32, HEX)
        secret("twilio", form, template.format(sid=sid, tok=tok), sid, tok)
    sid, tok = "AC" + rand(32, HEX), rand(32, HEX)
    secret("twilio", "python", f"twilio = new Twilio('{sid}', '{tok}');", sid, tok)
    api_sid = "SK" + rand(32, HEX)
    secret(
        "twilio",
        "yaml",
        f"twilio:\n  api_key_sid: {api_sid}\n  api_key_secret: {rand(32)}",
        api_sid,
    )

    for form, template in [
        ("env", "SENDGRID_API_KEY={}"),
        ("python", "sg = SendGridAPIClient('{}')"),
    ]:
        key = f"SG.{rand(22, URLSAFE)}.{rand(43, URLSAFE)}"
        secret("sendgrid_key", form, template.format(key), key)
    mailchimp = rand(32, HEX) + "-us21"
    secret(
        "mailchimp_key",
        "python",
        f'client.set_config({{"api_key": "{mailchimp}", "server": "us21"}})',
        mailchimp,
    )
    mailgun = "key-" + rand(32, HEX)
    secret(
        "mailgun_key",
        "shell",
        f"curl -s --user 'api:{mailgun}' https://api.mailgun.net/v3/x/messages",
        mailgun,
    )
    shopify = "shpat_" + rand(32, HEX)
    secret("shopify_token", "header", f"X-Shopify-Access-Token: {shopify}", shopify)
    do = "dop_v1_" + rand(64, HEX)
    secret("digitalocean_token", "shell", f"doctl auth init --access-token {do}", do)
    dapi = "dapi" + rand(32, HEX)
    secret("databricks_token", "env", f"DATABRICKS_TOKEN={dapi}", dapi)
    square = "EAAA" + rand(60, URLSAFE)
    secret(
        "square_token",
        "python",
        f"client = Client(access_token='{square}', environment='production')",
        square,
    )
    age = "AGE-SECRET-KEY-1" + rand(58, "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L")
    secret(
        "age_secret_key",
        "config",
        f"# created: 2026-01-02\n# public key: age1{rand(58, LOWER)}\n{age}",
        age,
    )
    grafana = f"glsa_{rand(32)}_{rand(8, HEX)}"
    secret("grafana_token", "env", f"GRAFANA_SERVICE_ACCOUNT_TOKEN={grafana}", grafana)
    newrelic = "NRAK-" + rand(27, UPPER)
    secret("newrelic_key", "yaml", f"newrelic:\n  user_api_key: {newrelic}", newrelic)
    vault = "hvs." + rand(90, URLSAFE)
    secret("vault_token", "shell", f"VAULT_ADDR=https://vault:8200 vault login {vault}", vault)
    linear = "lin_api_" + rand(40)
    secret("linear_key", "header", f'-H "Authorization: {linear}"', linear)
    notion = "ntn_" + rand(46)
    secret("notion_token", "python", f'notion = Client(auth="{notion}")', notion)
    doppler = "dp.st.prd." + rand(40)
    secret("doppler_token", "env", f"DOPPLER_TOKEN={doppler}", doppler[10:])
    postman = f"PMAK-{rand(24, HEX)}-{rand(34, HEX)}"
    secret("postman_key", "header", f"X-Api-Key: {postman}", postman)
    datadog = rand(32, HEX)
    secret("generic_api_key", "env", f"DD_API_KEY={datadog}", datadog)
    cloudflare = rand(40, URLSAFE)
    secret("generic_api_key", "shell", f'export CLOUDFLARE_API_TOKEN="{cloudflare}"', cloudflare)
    generic = rand(40)
    secret(
        "generic_api_key",
        "url",
        f"GET https://api.weather.example/v2/forecast?city=oslo&apikey={generic}&units=metric",
        generic,
    )
    generic = rand(36)
    secret(
        "generic_api_key",
        "json",
        f'{{"service": "search", "apiKey": "{generic}", "region": "eu"}}',
        generic,
    )
    generic = rand(32, LOWER)
    secret("generic_api_key", "header", f"x-api-key: {generic}", generic)

    # --- tokens in HTTP --------------------------------------------------------------------------
    for form, template in [
        ("header", "Authorization: Bearer {}"),
        ("shell", 'curl -H "Authorization: Bearer {}" https://internal.example/api/jobs'),
        ("python", 'headers = {{"Authorization": "Bearer {}", "Accept": "application/json"}}'),
        ("prose", "Called the admin API with bearer {} and it returned 403."),
    ]:
        token = rand(rng.choice([32, 40, 64]), URLSAFE + ".~")
        secret("bearer_token", form, template.format(token), token)
    for form, template in [
        ("header", "Authorization: Basic {}"),
        ("shell", "curl -H 'authorization: basic {}' https://registry.internal/v2/_catalog"),
    ]:
        blob = base64.b64encode(f"deploy:{password()}".encode()).decode()
        secret("basic_auth", form, template.format(blob), blob)
    for form, template in [
        ("header", "Authorization: Bearer {}"),
        ("json", '{{"id_token": "{}", "expires_in": 3600}}'),
        ("header", "Cookie: theme=dark; session={}"),
    ]:
        jwt = token_jwt()
        secret("jwt", form, template.format(jwt), jwt)

    # --- containers and orchestration ------------------------------------------------------------
    auth = base64.b64encode(f"ci-bot:{password()}".encode()).decode()
    config = {"auths": {"ghcr.io": {"auth": auth}}, "credsStore": "desktop"}
    secret("docker_auth", "json", json.dumps(config, indent=2), auth)
    auth = base64.b64encode(f"_json_key:{rand(40)}".encode()).decode()
    secret(
        "docker_auth",
        "json",
        f'{{"auths":{{"https://index.docker.io/v1/":{{"auth":"{auth}"}}}}}}',
        auth,
    )
    user, pw = base64.b64encode(b"app").decode(), base64.b64encode(password().encode()).decode()
    secret(
        "kubernetes_secret",
        "yaml",
        f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: db-creds\ntype: Opaque\ndata:\n"
        f"  username: {user}\n  password: {pw}\n",
        pw,
    )
    token_b64 = base64.b64encode(rand(40).encode()).decode()
    secret(
        "kubernetes_secret",
        "yaml",
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  LOG_LEVEL: info\n"
        f"---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: api\ndata:\n  token: {token_b64}\n"
        f"  extra: {b64(24)}\n",
        token_b64,
    )
    plain = rand(18)
    secret(
        "kubernetes_secret",
        "yaml",
        "kind: Secret\napiVersion: v1\nmetadata:\n  name: smtp\nstringData:\n"
        f"  relay-login: '{plain}'\n",
        plain,
    )
    tls_key = b64(48)
    secret(
        "kubernetes_secret",
        "json",
        f'{{"apiVersion": "v1", "kind": "Secret", "data": {{"tls.key": "{tls_key}"}}}}',
        tls_key,
    )

    # --- databases and connection URLs -----------------------------------------------------------
    for scheme, tail in [
        ("postgresql", "db.internal:5432/orders"),
        ("mysql", "10.0.3.7:3306/app?charset=utf8mb4"),
        ("mongodb+srv", "cluster0.abcde.mongodb.net/?retryWrites=true"),
        ("amqp", "rabbit:5672/%2f"),
        ("https", "nexus.internal/repository/pypi/simple"),
    ]:
        pw = rand(16, ALNUM + "-_")
        secret("url_credentials", "url", f"{scheme}://svc_{rand(4, LOWER)}:{pw}@{tail}", pw)
    pw = rand(20)
    secret("url_credentials", "env", f"REDIS_URL=redis://:{pw}@cache.internal:6379/0", pw)
    pw = rand(20)
    secret(
        "url_credentials",
        "prose",
        f"The broker is at rediss://default:{pw}@redis-prod:6380, db 2.",
        pw,
    )

    # --- passwords in config and code ------------------------------------------------------------
    for form, template in [
        ("env", "DB_PASSWORD={}"),
        ("env", "export POSTGRES_PASSWORD='{}'"),
        ("yaml", "database:\n  host: db\n  user: app\n  password: {}\n"),
        ("yaml", '  smtp_pass: "{}"'),
        ("json", '{{"username": "admin", "password": "{}"}}'),
        ("python", 'conn = psycopg.connect(host="db", user="app", password="{}")'),
        ("python", "DATABASE_PASSWORD = '{}'"),
        ("config", '[client]\nuser = root\npassword = "{}"'),
        ("config", "Server=tcp:sql.internal,1433;Database=crm;User Id=sa;Password={};Encrypt=true"),
        (
            "xml",
            "<server>\n  <id>nexus</id>\n  <username>deploy</username>\n"
            "  <password>{}</password>\n</server>",
        ),
        (
            "config",
            'resource "aws_db_instance" "main" {{\n  username = "app"\n  password = "{}"\n}}',
        ),
        ("prose", "The staging DB password is {} until we move it to the vault."),
        ("prose", "login for the router: admin / pw: {}"),
        ("yaml", "ldap:\n  bind_dn: cn=svc,dc=corp\n  bindPassword: {}"),
    ]:
        pw = password(rng.randint(10, 18))
        secret("password", form, template.format(pw), pw)
    pw = password(12)
    secret("password", "python", f"requests.get(url, auth=('deploy', '{pw}'))", pw)
    pw = password(13)
    secret("password", "xml", f'<add key="DbPassword" value="{pw}" />', pw)
    key = rand(50, string.ascii_lowercase + string.digits + "!@#$%^&*(-_=+)")
    secret(
        "django_secret_key", "python", f"SECRET_KEY = config('SECRET_KEY', default='{key}')", key
    )
    key = rand(32)
    secret("generic_api_key", "prose", f"geocoding api key = {key} (free tier)", key)
    pw = password(13)
    secret("password", "prose", f"| name | value |\n|---|---|\n| DB_PASSWORD | `{pw}` |", pw)
    pw = password(11)
    secret("password", "prose", f"creds -> ops:{pw} (staging only)", pw)
    pw = "$" + password(12)
    secret("password", "env", f"export ADMIN_PASSWORD='{pw}'", pw)
    django = "django-insecure-" + rand(
        50, string.ascii_lowercase + string.digits + "!@#$%^&*(-_=+)"
    )
    secret("django_secret_key", "python", f"SECRET_KEY = '{django}'", django)
    django = rand(50, string.ascii_lowercase + string.digits + "!@#$%^*(-_=+)")
    secret("django_secret_key", "env", f"DJANGO_SECRET_KEY={django}", django)
    rails = rand(128, HEX)
    secret("rails_secret", "env", f"SECRET_KEY_BASE={rails}", rails)
    jwt_secret = rand(48, ALNUM)
    secret(
        "signing_secret", "yaml", f"auth:\n  jwt_secret: {jwt_secret}\n  issuer: api", jwt_secret
    )
    fernet = b64(32)
    secret("encryption_key", "env", f"FERNET_KEY={fernet}", fernet)
    hmac_key = rand(64, HEX)
    secret("encryption_key", "python", f'HMAC_KEY = "{hmac_key}"', hmac_key)
    for template in [
        "CREATE USER reporting WITH PASSWORD '{}';",
        "ALTER USER 'app'@'%' IDENTIFIED BY '{}';",
    ]:
        pw = password(14).replace("'", "")
        secret("sql_password", "config", template.format(pw), pw)
    pw = password(16)
    secret("config_password", "config", f"bind 0.0.0.0\nport 6379\nrequirepass {pw}\n", pw)
    pw = password(13)
    secret("password", "python", f'define("DB_PASSWORD", "{pw}");', pw)
    pw = password(12)
    secret("password", "python", f"$db_password = '{pw}';", pw)
    token = rand(40, URLSAFE)
    secret("generic_api_key", "python", f'client = api.Client(api.WithToken("{token}"))', token)
    pw = password(12)
    secret(
        "password",
        "yaml",
        f"services:\n  db:\n    environment:\n      - MYSQL_ROOT_PASSWORD={pw}\n",
        pw,
    )

    # --- passwords on command lines --------------------------------------------------------------
    for template in [
        "sshpass -p '{}' ssh deploy@10.0.0.5 'systemctl restart app'",
        "sshpass -p {} scp build.tar.gz ops@bastion:/tmp/",
        "mysql -h db -u root -p{} orders < dump.sql",
        "mysqldump -uroot -p'{}' --all-databases > all.sql",
        "mysql --user=app --password={} -e 'show tables' app",
        "PGPASSWORD={} psql -h db.internal -U app -d orders -c 'select 1'",
        "redis-cli -h cache.internal -a '{}' ping",
        "docker login registry.example.com -u ci -p {}",
        "openssl pkcs12 -export -in cert.pem -inkey key.pem -out bundle.p12 -passout pass:{}",
        "keytool -importcert -file ca.crt -keystore trust.jks -storepass {} -noprompt",
        "echo '{}' | sudo -S apt-get install -y nginx",
        "sqlcmd -S sql.internal -U sa -P '{}' -Q 'SELECT 1'",
        "ldapsearch -x -D 'cn=admin,dc=corp' -w {} -b 'dc=corp'",
        "mongosh mongodb://db:27017/admin -u root -p '{}'",
        "wget --user=ci --password='{}' https://artifacts.internal/build.zip",
        "kubectl create secret generic db --from-literal=password='{}'",
        "docker run -e POSTGRES_PASSWORD={} -d postgres:16",
        "echo {} | docker login ghcr.io -u bot --password-stdin",
        "rabbitmqctl add_user deploy {}",
        "htpasswd -bc /etc/nginx/.htpasswd admin {}",
        "az login --service-principal -u 00000000-app -p {} --tenant corp",
    ]:
        pw = password(rng.randint(10, 16)).replace("'", "")
        secret("cli_password", "shell", template.format(pw), pw)
    pw = password(12)
    secret("cli_password", "shell", f"curl -u admin:{pw} https://jenkins.internal/api/json", pw)
    pw = password(12)
    secret("cli_password", "shell", f'curl --user "backup:{pw}" -T db.gz ftp://files.internal/', pw)

    # --- private keys ----------------------------------------------------------------------------
    for label in ("RSA ", "OPENSSH ", "EC ", "", "ENCRYPTED "):
        body = [b64(48) for _ in range(rng.randint(3, 6))]
        block = f"-----BEGIN {label}PRIVATE KEY-----\n" + "\n".join(body)
        secret("private_key", "config", f"{block}\n-----END {label}PRIVATE KEY-----\n", *body)
    body = [b64(48) for _ in range(3)]
    secret(
        "private_key",
        "prose",
        "here is the start of the key I pasted:\n-----BEGIN RSA PRIVATE KEY-----\n"
        + "\n".join(body),
        *body,
    )
    body = [b64(48) for _ in range(4)]
    secret(
        "private_key",
        "config",
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n"
        + "\n".join(body)
        + "\n-----END PGP PRIVATE KEY BLOCK-----",
        *body,
    )

    # --- tricks: invisible characters, fullwidth letters, wrapped lines --------------------------
    token = "ghp_" + rand(36)
    hidden = token[:10] + "\u200b" + token[10:]
    secret("github_token", "trick", f"token {hidden} for the bot", hidden)
    key = "sk-proj-" + rand(48, URLSAFE)
    hidden = key[:20] + "\u2060" + key[20:30] + "\ufeff" + key[30:]
    secret("openai_key", "trick", f"OPENAI_API_KEY={hidden}", hidden)
    pw = password(14)
    wide = "".join(chr(ord(c) + 0xFEE0) for c in "PASSWORD")
    secret("password", "trick", f"{wide}={pw}", pw)
    aws = "AKIA" + rand(16, UPPER)
    wide_aws = "".join(chr(ord(c) + 0xFEE0) for c in aws)
    secret("aws_access_key", "trick", f"key: {wide_aws}", wide_aws)
    key = "AKIA" + rand(16, UPPER)
    secret(
        "aws_access_key",
        "trick",
        f"the access key is {key[:11]}\n{key[11:]} (wrapped)",
        key[:11],
        key[11:],
    )
    key = "sk-ant-api03-" + rand(90, URLSAFE)
    secret(
        "anthropic_key", "trick", f"ANTHROPIC_API_KEY={key[:50]}\n{key[50:]}", key[:50], key[50:]
    )
    hf = "hf_" + rand(34)
    secret("huggingface_token", "trick", f"use {hf[:18]}\n    {hf[18:]}", hf[:18], hf[18:])
    pw = password(12)
    soft = pw[:5] + "\u00ad" + pw[5:]
    secret("password", "trick", f"password: {soft}", soft)

    # === look-alikes that must survive -----------------------------------------------------------
    for text in [
        "pwd: /srv/app/current",
        "private_key: /etc/ssl/private/api.key",
        "key_file: ./certs/server.key",
        'ssh_key_path = "/home/dev/.ssh/id_ed25519"',
        "credentials: ~/.aws/credentials",
        "token_file=/var/run/secrets/kubernetes.io/serviceaccount/token",
        "PWD=/home/runner/work/app/app",
        "passfile: ~/.pgpass",
        "GOOGLE_APPLICATION_CREDENTIALS=/secrets/gcp/service-account.json",
        "secret_name: prod/db/credentials",
        "tls:\n  cert: certs/tls.crt\n  key: certs/tls.key",
    ]:
        keep("path", "config", text)

    for text in [
        "API_TOKEN=<your-token>",
        "export GITHUB_TOKEN=${GITHUB_TOKEN}",
        "password: xxxx",
        "DB_PASSWORD=changeme",
        "password: changeme123?",
        "OPENAI_API_KEY=your_api_key_here",
        '"password": "********"',
        "token: REPLACE_ME",
        'api_key: "YOUR_API_KEY"',
        "AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY",
        'password: "{{ vault_db_password }}"',
        "dsn = 'dbname=app user=app password=%(db_password)s'",
        "STRIPE_SECRET_KEY=sk_live_...",
        "ANTHROPIC_API_KEY=sk-ant-...",
        "GH_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "aws_access_key_id = AKIAXXXXXXXXXXXXXXXX",
        'Authorization: Basic realm="registry"',
        "api_key: ***REDACTED***",
        'token: "${{ secrets.GITHUB_TOKEN }}"',
        "Authorization: Bearer <token>",
        "Authorization: Basic <base64 of user:password>",
        'curl -H "Authorization: Bearer $API_TOKEN" https://api.example.com/v1/me',
        "SECRET_KEY=<generate with: openssl rand -hex 32>",
        "password=None",
        "PASSWORD=${DB_PASSWORD:-}",
        "API_KEY=${API_KEY:?set API_KEY first}",
        "client_secret: ''",
        "apiKey: process.env.STRIPE_KEY",
        "<password>${env.MAVEN_PASSWORD}</password>",
        "redis://:@localhost:6379",
        "API_KEY=test-api-key",
        "token = 'fake-token-for-tests'",
    ]:
        keep("placeholder", "config", text)

    for text in [
        "password = settings.password",
        "api_key_from_env = os.getenv('API_KEY')",
        "def get_password(user: str) -> str:",
        "token = request.headers.get('Authorization')",
        "secret = load_secret(name)",
        "password: str = Field(min_length=12)",
        "password: Optional[str] = None",
        "api_key = None",
        "const apiKey = process.env.API_KEY;",
        "self._token = token",
        'headers = {"Authorization": f"Bearer {token}"}',
        "headers['Authorization'] = 'Bearer ' + access_token",
        'if not validate_api_key(key):\n    raise PermissionError("bad key")',
        "class TokenRefresher:\n    def refresh_access_token(self) -> str: ...",
        "password_hash = bcrypt.hashpw(password.encode(), bcrypt.gensalt())",
        'SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]',
        "SECRET_KEY = env('SECRET_KEY')",
        "os.environ['OPENAI_API_KEY'] = api_key",
        "jwt.decode(token, key, algorithms=['HS256'])",
        'PASSWORD_VALIDATORS = [{"NAME": "MinimumLengthValidator"}]',
        "max_tokens: 2048",
        "token_budget = 2000",
        "password_min_length: 12",
        "token_url: https://oauth2.googleapis.com/token",
        'token_type: "Bearer"',
        "auth: required",
        "auth_method: token",
        '"auth": {"type": "oauth2"}',
        "secret: false",
        "hf_hub_download(repo_id='sentence-transformers/all-MiniLM-L6-v2', filename='config.json')",
        "npm_config_cache=/tmp/npm-cache npm ci",
        "primary_key=True, sort_key='created_at'",
        "cache_key = f'user:{user_id}:profile'",
        "public_key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAbcdefghijklmnopqrstuvwxyz0123456789ABCD"
        " dev@laptop",
        "TestRedactionKeepsOrdinaryBase64Unchanged",
        "AbstractSingletonProxyFactoryBean.getObjectInstance()",
        "@pytest.fixture\ndef api_token() -> str:\n    return 'dummy'",
        "monkeypatch.setenv('OPENAI_API_KEY', 'test-key')",
        "client.login(username='alice', password='test')",
        "headers.setdefault('sec-websocket-key', 'testserver==')",
        "token = get_token('github')",
        "os.environ.setdefault('API_KEY', 'dev')",
        "cache_key = 'profile:v2'",
        "idempotency_key = str(uuid4())",
    ]:
        keep("code", "python", text)

    for text in [
        "mysql -u root -p orders",
        "psql -h localhost -U postgres -d app",
        "sshpass -f ~/.sshpass ssh deploy@host",
        "echo $REGISTRY_TOKEN | docker login ghcr.io -u ci --password-stdin",
        "curl -u admin https://jenkins.internal/api/json",
        'curl -u "$USER:$PASS" https://jenkins.internal/api/json',
        "redis-cli -h cache.internal -p 6379 ping",
        "ssh -p 2222 deploy@bastion",
        "zip -r release.zip dist/",
        'sshpass -p "$SSHPASS" ssh ops@host',
        "mysql --password -u app app",
        "openssl req -newkey rsa:4096 -keyout key.pem -passout env:KEY_PASS",
        "echo $CR_PAT | docker login ghcr.io -u bot --password-stdin",
        "ALTER ROLE app PASSWORD NULL;",
        "requirepass ${REDIS_PASSWORD}",
        "psql -U app -W orders",
    ]:
        keep("command", "shell", text)

    for text in [
        "the password is stored in Vault under kv/prod/db",
        "rotate the API key every 90 days",
        "the token expires in 3600 seconds",
        "our password policy requires 12 characters and a digit",
        "the secret key is kept in AWS Secrets Manager, not in the repo",
        "Bearer tokens go in the Authorization header, never in the URL",
        "the key is in ~/.config/app/credentials.json",
        "passwords must be at least 14 characters long",
        "API key rotation is handled by the platform team",
        "AKIA prefixes identify long-lived AWS access keys",
        "GitLab personal tokens start with glpat- and Stripe webhook secrets with whsec_",
        "use sk-learn? no: scikit-learn is the package name",
        "the token is valid for one hour",
        "the secret sauce is a warm cache",
        "password reset emails are sent by the worker",
    ]:
        keep("prose", "prose", text)

    for _ in range(3):
        keep("hash", "prose", f"fixed in commit {rand(40, HEX)} on main")
    keep("hash", "shell", f"git checkout {rand(7, HEX)} && git cherry-pick {rand(12, HEX)}")
    keep("hash", "config", f"sha256: {rand(64, HEX)}")
    keep("hash", "shell", f"docker pull nginx@sha256:{rand(64, HEX)}")
    keep("hash", "shell", f"{rand(32, HEX)}  release-1.4.2.tar.gz")
    keep("hash", "config", f"requests==2.32.3 --hash=sha256:{rand(64, HEX)}")
    keep("hash", "json", f'"integrity": "sha512-{b64(64)}"')
    keep("hash", "config", f"github.com/stretchr/testify v1.9.0 h1:{b64(32)}")
    keep("hash", "header", f'ETag: "{rand(32, HEX)}"')
    keep("hash", "prose", f"the sha256 of the key file is {rand(64, HEX)}")
    keep("hash", "prose", f"the commit that rotated the signing key is {rand(40, HEX)}")
    keep("hash", "json", f'"private_key_id": "{rand(40, HEX)}"')
    keep("hash", "prose", f"the key id is {rand(16, UPPER)}")
    for _ in range(2):
        keep("uuid", "prose", f"request {uuid()} timed out after 30s")
    keep("uuid", "config", f"request_id={uuid()}")
    keep("uuid", "json", f'{{"id": "{uuid()}", "trace_id": "{rand(32, HEX)}"}}')
    keep("uuid", "header", f"X-Request-Id: {uuid()}")
    for sentence in [
        "hello world, this is an ordinary sentence",
        "# Notes\n\nThe release went fine on Tuesday.",
        "user preferences: dark mode, compact lists",
    ]:
        encoded = base64.b64encode(sentence.encode()).decode()
        keep("base64_text", "shell", f"echo {encoded} | base64 -d")
    keep(
        "base64_text",
        "json",
        f'{{"encoding": "base64", "content": "{base64.b64encode(b"print(1)").decode()}"}}',
    )
    keep(
        "base64_text",
        "url",
        "data:text/plain;base64," + base64.b64encode(b"Release notes for version two").decode(),
    )
    keep(
        "public_material",
        "config",
        "-----BEGIN CERTIFICATE-----\n"
        + "\n".join(b64(48) for _ in range(4))
        + "\n-----END CERTIFICATE-----",
    )
    keep(
        "public_material",
        "config",
        "-----BEGIN PUBLIC KEY-----\n"
        + "\n".join(b64(48) for _ in range(3))
        + "\n-----END PUBLIC KEY-----",
    )
    keep(
        "public_material",
        "yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  LOG_LEVEL: debug\n"
        f"  BUILD: {rand(12, HEX)}\n  GREETING: {base64.b64encode(b'hello there').decode()}\n",
    )
    keep(
        "public_material",
        "yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n"
        "  password: {{ .Values.db.password | b64enc }}\n",
    )
    for url in [
        "postgres://app@db.internal:5432/orders",
        "https://github.com/acme/api.git",
        "redis://localhost:6379/0",
        "git@github.com:acme/api.git",
        "ssh://git@gitlab.example.com:2222/team/repo.git",
        "https://user@example.com/path",
    ]:
        keep("url", "url", f"clone from {url}")
    keep("identifier", "config", "arn:aws:iam::123456789012:role/deploy-role")
    keep("identifier", "config", "AWS_REGION=us-east-1\nAWS_DEFAULT_OUTPUT=json")
    keep("identifier", "prose", "build 20261128T101010Z shipped 3 fixes; see PR #4521")
    keep("identifier", "config", "client_id: 1234567890-abcdefgh.apps.googleusercontent.com")
    keep("identifier", "config", f"container: {rand(64, HEX)}")
    keep("identifier", "prose", "the docs video is https://www.youtube.com/watch?v=dQw4w9WgXcQ")

    # --- outside-trial kinds: other languages, passphrases, newer token formats, cookies ---
    for template in [
        "пароль от базы: {}",
        "la contraseña es {}",
        "le mot de passe est {}",
        "Passwort für den Server: {}",
        "a senha do banco é {}",
        "数据库密码是{}",
        "パスワードは {}",
        "비밀번호: {}",
        "user admin pass {}",
    ]:
        pw = password()
        secret("password", "prose", template.format(pw), pw)
    words = "amber river lantern pocket violet canyon marble harbor"
    for template in ['DB_PASSWORD="{}"', "password: '{}'", "the wifi password is '{}'"]:
        phrase = " ".join(rng.sample(words.split(), 4))
        secret("passphrase", "config", template.format(phrase), phrase)
    eth = rand(64, HEX)
    secret("private_key", "env", f"PRIVATE_KEY=0x{eth}", eth)
    for prefix, n, kind in [("dckr_pat_", 27, "docker"), ("figd_", 40, "figma")]:
        value = prefix + rand(n, URLSAFE)
        secret(kind, "env", f"{kind.upper()}_TOKEN={value}", value)
    fb = "EAAC" + rand(120)
    secret("facebook_token", "url", f"https://graph.facebook.com/me?access_token={fb}", fb)
    sid, csrf = rand(32, LOWER), rand(32)
    secret("cookie", "header", f"Cookie: sessionid={sid}; csrftoken={csrf}", sid, csrf)
    keep("cookie", "header", "Cookie: theme=dark; lang=en-GB; consent=yes")
    keep("prose", "prose", "pass the token to the client, then pass Python3 to the script")
    keep("placeholder", "yaml", 'password: "must be at least 8 characters"')
    keep("prose", "prose", "la clave primaria es id; el 密码 campo es obligatorio")
    keep("hash", "prose", f"the transfer is tx 0x{rand(64, HEX)} on mainnet")
    # --- a second outside trial: dotted and digit-only values, more labels and quote marks ---
    for label, shape in [
        ("password: {}", "{a}.{b}.{d}"),
        ("admin password is {}", "{a}.{b}.{d}"),
        ("Contraseña del admin: {}", "{a}.{b}.{d}"),
        ("La password del database di produzione è {}", "{a}!{b}{d}"),
        ("Sunucu şifresi: {}", "{a}_{b}_{d}"),
        ("Kennwort={}", "{a}!{b}{d}"),
        ("hasło={}", "{a}{d}!{b}"),
        ("Le mot de passe est « {} »", "{a}-{b}-{d}"),
        ("パスフレーズ: {}", "{a}#{b}{d}"),
    ]:
        a, b = (rand(1, string.ascii_uppercase) + rand(4, string.ascii_lowercase) for _ in "ab")
        value = shape.format(a=a, b=b, d=rand(2, string.digits))
        secret("password", "prose", label.format(value), value)
    pin = rand(8, string.digits)
    secret("password", "yaml", f"password: {pin}", pin)
    first = rand(1, "@#") + rand(3, string.ascii_lowercase)
    phrase = f"{first} w{rand(1, string.digits)}rd with spaces"
    secret("passphrase", "env", f"DB_PASS='{phrase}'", phrase)
    keep("identifier", "yaml", "password: config.db.password\nport: 12345678\nversion: 2024.1")
    # --- a third trial: env lists of Kubernetes and ECS, "label is X" in more languages ---
    for template in [
        'env:\n  - name: DB_PASSWORD\n    value: "{}"',
        '{{"environment": [{{"name": "DB_PASSWORD", "value": "{}"}}]}}',
        "Lösenordet är {}",
        "Heslo je {}",
        "كلمة المرور هي {}",
        "पासवर्ड है {}",
        "Ο κωδικός είναι {}",
    ]:
        pw = password()
        secret("password", "prose" if "{}" in template[-3:] else "yaml", template.format(pw), pw)
    keep("placeholder", "yaml", 'env:\n  - name: DB_PASSWORD\n    value: "${DB_PASSWORD}"')
    keep("identifier", "yaml", 'env:\n  - name: LOG_LEVEL\n    value: "debug"')
    keep("placeholder", "yaml", "db:\n  password: !vault |\n    $ANSIBLE_VAULT;1.1;AES256")
    keep("placeholder", "yaml", "defaults: &db\n  password: *db_password")
    glued = password()
    secret("password", "yaml", f"password:{glued}", glued)
    # --- a fourth look: the places a format or a tool keeps a password ---
    for form, template in [
        ("config", "WIFI:T:WPA;S:Office-5G;P:{};;"),
        ("config", "db.internal:5432:orders:app:{}"),
        ("config", "*:*:*:postgres:{}"),
        ("shell", r"net use Z: \\fs01\share {} /user:CORP\jdoe"),
        ("shell", r"net use \\fs01\ipc$ /user:administrator {}"),
        ("shell", '$pw = ConvertTo-SecureString "{}" -AsPlainText -Force'),
        ("shell", 'dotnet user-secrets set "Smtp:Password" "{}"'),
        ("shell", "openssl enc -aes-256-cbc -k {} -in backup.tar"),
        ("shell", "sudo -S <<< '{}' systemctl restart nginx"),
        ("shell", 'gh secret set DEPLOY_KEY --body "{}"'),
        ("shell", "mc alias set backups https://s3.internal:9000 backupuser {}"),
        ("yaml", "db:\n  password: |\n    {}\n  user: app"),
    ]:
        pw = password()
        secret("password", form, template.format(pw), pw)
    camel = rand(1, string.ascii_uppercase) + rand(4, string.ascii_lowercase) + "Pw" + "77"
    secret("password", "shell", f"mysqldump --user=root --password={camel} orders", camel)
    vault = "s." + rand(11) + rand(1, string.digits) + rand(12)
    secret("vault_token", "shell", f"VAULT_TOKEN used by ci: {vault}", vault)
    keep("shell", "shell", r"net use Z: \\fs01\share /persistent:yes")
    keep("shell", "shell", r"net use Z: \\fs01\share * /user:CORP\jdoe")
    keep("placeholder", "shell", "$pw = ConvertTo-SecureString $plain -AsPlainText -Force")
    keep("identifier", "shell", 'dotnet user-secrets set "Logging:LogLevel" "Debug"')
    keep("prose", "yaml", "notes: |\n  rotate the password every quarter\n")
    keep("placeholder", "yaml", "password: |\n  ${DB_PASSWORD}\n")
    keep("identifier", "log", "2026:12:03:18:30 backup finished")
    keep("identifier", "python", "connect(password=dbPw2)")


def build(seed: int = SEED) -> tuple[list[Case], list[Case]]:
    """The labelled set drawn with another seed: same shapes, other credentials."""
    global rng
    rng = random.Random(seed)
    SECRETS.clear()
    LOOKALIKES.clear()
    _write_cases()
    return list(SECRETS), list(LOOKALIKES)


build()
SCRUB = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKC", text.translate(SCRUB))


def leaked(fragment: str, output: str) -> bool:
    """Some recognisable piece of the secret is still in the output (invisible tricks undone)."""
    frag, out = _plain(fragment), _plain(output)
    if len(frag) <= 12:
        return frag in out
    return any(frag[i : i + 12] in out for i in range(0, len(frag) - 11, 4))


def caught(case: Case, redact: Callable[[str], object]) -> bool:
    result = redact(case.text)
    return getattr(result, "count", 1) > 0 and not any(
        leaked(f, getattr(result, "text", "")) for f in case.secrets
    )


def untouched(case: Case, redact: Callable[[str], object]) -> bool:
    result = redact(case.text)
    return getattr(result, "text", None) == case.text and getattr(result, "count", 0) == 0
