"""Where a secret sits in text: assignments, flags and XML elements, command lines, loose
contexts judged by the value's look, auth headers and cookies, prose around a secret's noun
(in many languages), Kubernetes Secret manifests. Regular expressions only; `amber.redact`
runs them and `amber.secret_patterns` judges the values they find.
"""

from __future__ import annotations

import re

# A value: quoted, or a bare run up to blanks and separators.
_VALUE = r"(?P<val>\"[^\"\n]*\"|'[^'\n]*'|`[^`\n]*`|[^\s\"'`,;&<>|()\[\]{}]+)"
_KEYWORD = (
    r"(?:pass|pw|secret|token|key|auth|credential|kennwort|has[łl]o|contrase[ñn]a|senha"
    r"|wachtwoord|l[öo]senord|salasana|[şs]ifre|парол|mot_?de_?passe|mdp)"
)
# `name = value`, `name: value`, `"name": "value"`, `name: str = "value"`, `os.environ["NAME"] = v`
ASSIGNMENT = re.compile(
    rf"(?i)(?<![\w\-.])(?<!\$\{{)(?P<name>(?=[A-Za-z_])[\w.\-]{{0,60}}?{_KEYWORD}[\w.\-]{{0,60}})"
    r"(?P<nq>[\"'`]?\]?)"
    r"(?P<ann>[ \t]*:[ \t]*[A-Za-z_][\w\[\], .|]*?[ \t]*(?==))?"
    rf"(?P<before>[ \t]*)(?P<sep>:=|=>|=(?!=)|:)(?P<after>[ \t]*){_VALUE}"
)
ENV_LINE = re.compile(
    r"(?m)^(?:(?:export|ENV|ARG|set|setx)[ \t]+|Environment=\"?|[ \t]*-[ \t]+)?"
    r"(?P<name>[A-Za-z_][\w.\-]*)=(?P<val>\"[^\"\n]*\"|'[^'\n]*'|\S+)"
)
FLAG = re.compile(
    rf"(?i)(?<![\w\-])--(?P<name>(?=[A-Za-z])[\w\-]{{0,60}}?{_KEYWORD}[\w\-]{{0,60}})"
    rf"(?P<sep>=|[ \t]+){_VALUE}"
)
XML_ELEMENT = re.compile(r"<(?P<name>[\w\-.:]+)>(?P<val>[^<\n]{3,})</(?P=name)>")

_ARG = r"(?P<v>\"[^\"\n]*\"|'[^'\n]*'|[^\s\"'|;&)]+)"
_IN_COMMAND = r"\b[^\n|;&]*?\s"
# Passwords handed to a program on its command line.
COMMAND_LINE: list[str] = [
    rf"\bsshpass{_IN_COMMAND}-p[ \t]*{_ARG}",
    rf"\b(?:mysql\w*|mariadb[\w\-]*){_IN_COMMAND}-p(?P<v>\"[^\"\n]*\"|'[^'\n]*'"
    r"|[^\s\"'|;&\-][^\s\"'|;&]*)",
    rf"\bredis-cli{_IN_COMMAND}-a[ \t]+{_ARG}",
    # docker login, az login, oc login ...
    rf"\b[\w\-]{{1,30}}(?:[ \t]+[\w\-]{{1,30}})?[ \t]+login{_IN_COMMAND}-p[ \t]+{_ARG}",
    rf"\b(?:sqlcmd|bcp|zip|unzip){_IN_COMMAND}-P[ \t]+{_ARG}",
    rf"\b7za?{_IN_COMMAND}-p(?P<v>[^\s\"'|;&]+)",
    rf"\bldap\w+{_IN_COMMAND}-w[ \t]+{_ARG}",
    rf"\bmongo(?:sh|dump|restore|import|export)?{_IN_COMMAND}-p[ \t]+{_ARG}",
    r"\s-pass(?:in|out)?[ \t]+[\"']?pass:(?P<v>[^\s\"'|;&]+)",
    rf"\s-(?:src|dest)?(?:store|key)pass[ \t]+{_ARG}",
    r"\bsmbclient\b[^\n|;&]*?\s-U[ \t]+[\"']?[^\s%\"']+%(?P<v>[^\s\"']+)",
    r"\b(?:sqlplus|rman|expdp|impdp)[ \t]+(?:-\w+[ \t]+)*[\w.$#]+/(?P<v>[^\s@/\"']+)(?:@|[ \t]|$)",
    r"\becho[ \t]+(?:-n[ \t]+)?(?P<v>\"[^\"\n]*\"|'[^'\n]*'|[^\s|]+)[ \t]*\|[^\n]*?"
    r"(?:\bsudo[ \t]+-S\b|--password-stdin|--stdin\b|\bchpasswd\b)",
    r"\brabbitmqctl[ \t]+(?:add_user|change_password)[ \t]+\S+[ \t]+(?P<v>\S+)",
    r"\bhtpasswd[ \t]+-\w*b\w*[ \t]+(?:-\w+[ \t]+)*\S+[ \t]+\S+[ \t]+(?P<v>\S+)",
    r"\b(?:curl|wget|http|xh)\b[^\n|;&]*?\s(?:-u|--user|--proxy-user|-U)(?:[ \t]*=?[ \t]*)"
    r"[\"']?[^\s\"':]*:(?P<v>[^\s\"']+)",
    rf"\bopenssl[ \t]+(?:enc|aes\S*|des\S*){_IN_COMMAND}-k[ \t]+{_ARG}",
    r"\bsudo[ \t]+-S\b[^\n|;&]*?<<<[ \t]*(?P<v>\"[^\"\n]*\"|'[^'\n]*'|[^\s|;&]+)",
    rf"\bgh[ \t]+secret[ \t]+set{_IN_COMMAND}(?:-b|--body)[ \t]*=?[ \t]*{_ARG}",
    # mc alias set NAME URL ACCESS_KEY SECRET_KEY
    r"\bmc[ \t]+(?:alias[ \t]+set|config[ \t]+host[ \t]+add)[ \t]+\S+[ \t]+\S+[ \t]+\S+[ \t]+"
    r"(?P<v>[^\s\"'|;&]+)",
    # Windows: net use [drive] \\host\share PASSWORD [/user:name], or after /user:name
    r"(?i)\bnet[ \t]+use\b(?:[ \t]+(?:[a-z]:|\*))?[ \t]+\\\\\S+[ \t]+(?P<v>[^\s/*\"'][^\s\"']*)",
    r"(?i)\bnet[ \t]+use\b[^\n|;&]*?/u(?:ser)?:\S+[ \t]+(?P<v>[^\s/*\"'][^\s\"']*)",
    r"(?i)\bConvertTo-SecureString\b[ \t]+(?:-String[ \t]+)?(?P<v>\"[^\"\n]*\"|'[^'\n]*')",
]
# Formats with a field that holds a password: a Wi-Fi QR code's P:, a .pgpass line's last.
FORMAT_FIELDS: list[str] = [
    r"\bWIFI:(?:[A-Z]:(?:\\.|[^;\\\n])*;)*?P:(?P<v>(?:\\.|[^;\\\n])+)",
    r"(?m)^[ \t]*(?:\*|(?=[\w.\-]*[A-Za-z.])[\w.\-]+):(?:\d{1,5}|\*)"
    r":(?:[\w.\-]+|\*):(?:[\w.\-@]+|\*):"
    r"(?P<v>(?:\\.|[^\s\\])+)[ \t]*$",
]
# Judged by how the value looks (`credential_like`), as the context alone says too little:
# config directives, a secret-named call given a literal, a secret-named string paired with one.
LOOSE_CONTEXTS: list[str] = [
    r"(?im)^[ \t]*(?:requirepass|masterauth|bindpw|rootpw|auth_pass)[ \t]+(?P<v>\S+)",
    r"(?i)\b(?:identified[ \t]+by|password)[ \t]+'(?P<v>[^'\n]+)'",  # SQL
    r"(?i)\b\w{0,40}?(?:token|secret|passw(?:or)?d|api_?key|credential)\w{0,40}\([ \t]*"
    r"(?P<q>[\"'])(?P<v>[^\"'\n]+)(?P=q)[ \t]*[,)]",
    r"(?P<q>[\"'])(?P<name>[\w.\-]*(?i:pass(?:word|wd)?|pwd|secret|token|key))(?P=q)[ \t]*,[ \t]*"
    r"(?:default[ \t]*=[ \t]*)?(?P<q2>[\"'])(?P<v>[^\"'\n]+)(?P=q2)",  # config("KEY", default="v")
    # <add key="DbPassword" value="..."/>, <property name="db.password" value="..."/>
    r"\b(?:key|name)[ \t]*=[ \t]*(?P<q>[\"'])(?P<name>[\w.\-:]+)(?P=q)[ \t]+value[ \t]*=[ \t]*"
    r"(?P<q2>[\"'])(?P<v>[^\"'\n]+)(?P=q2)",
    # requests' auth=("user", "password"), HTTPBasicAuth("user", "password")
    r"\b(?:auth|\w*BasicAuth|\w*DigestAuth)[ \t]*[=(][ \t]*\(?[ \t]*(?P<q>[\"'])[^\"'\n]*(?P=q)"
    r"[ \t]*,[ \t]*(?P<q2>[\"'])(?P<v>[^\"'\n]+)(?P=q2)",
    # name/value pairs of Kubernetes and ECS env lists, YAML or JSON:
    # - name: DB_PASSWORD\n  value: "…"   or   {"name": "DB_PASSWORD", "value": "…"}
    r"(?i)\bname\"?[ \t]*:[ \t]*(?P<q>[\"']?)(?P<name>[\w.\-]+)(?P=q)[ \t]*,?[ \t]*"
    r"(?:\r?\n[ \t-]*)?\"?value\"?[ \t]*:[ \t]*(?P<q2>[\"']?)(?P<v>[^\"'\n,}]+)(?P=q2)",
    # dotnet user-secrets set "Smtp:Password" "value"
    r"\buser-secrets[ \t]+set[ \t]+(?P<q>[\"']?)(?P<name>[\w.:\-]+)(?P=q)[ \t]+"
    r"(?P<q2>[\"']?)(?P<v>[^\"'\s]+)(?P=q2)",
    # a Markdown table row: | DB_PASSWORD | value |
    r"(?m)^\|?[ \t]*`?(?P<name>[\w.\-]*(?i:pass(?:word|wd)?|pwd|secret|token|key))`?[ \t]*\|"
    r"[ \t]*`?(?P<v>[^|`\s]+)`?[ \t]*\|",
]
AUTH_HEADER = re.compile(
    r"(?i)\b(?:proxy-)?authori[sz]ation\b[\"']?\s*[:=]\s*[\"']?\s*"
    r"(?P<scheme>bearer|basic|token|bot|apikey|api-key|sso-key|otp|key|ssws|splunk)[ \t]+"
    r"(?P<v>[\w.~+/=\-:]{6,})"
)
# A Cookie header (or curl's -b/--cookie): its values are session credentials when they
# look machine-made or sit under a session-like name.
COOKIE_HEADER = re.compile(
    r"(?im)(?:\b(?:set-)?cookie[\"']?[ \t]*[:=]|(?<!\S)(?:-b|--cookie)[ \t]+[\"']?)"
    r"(?P<pairs>[^\n\"']+)"
)
COOKIE_PAIR = re.compile(r"(?:^|;)[ \t]*(?P<name>[\w.\-]+)=(?P<v>[^;\s,]+)")
SESSION_NAME = re.compile(r"(?i)sess|sid$|auth|token|csrf|xsrf|remember|login|jwt")
BEARER = re.compile(r"\b[Bb]earer[ \t]+(?P<v>[\w.~+/\-]{16,}=*)")

# A secret named in prose: "the staging password is X", "API key for the bot: X",
# "the secret key wJalr...". The words after the noun are read one by one (see redact._prose).
# The word for password in other languages: spaced scripts between word boundaries, and the
# ones written without spaces (Chinese, Japanese, Korean) anywhere, a particle after them.
_FOREIGN_PASSWORDS = (
    r"парол[ьяюем]\w*|contrase[ñn]as?|claves?|mots? de passe|mdp|senhas?|wachtwoord\w*"
    r"|has[łl]o|parolas?|passord|passw[oö]rt(?:e?s)?|kennw[oö]rt(?:e?s)?|l[öo]senord(?:et)?"
    r"|adgangskode|salasana|jelsz[óo]|heslo|[şs]ifre(?:si|niz|n|m)?"
    r"|kata sandi|m[ậa]t kh[ẩa]u|κωδικ[όο]ς|كلمة (?:المرور|السر)|סיסמ[הא]|पासवर्ड"
)
UNSPACED_PASSWORDS = r"密码|密碼|口令|パスワード|パスフレーズ|暗証番号|비밀번호|암호"
SECRET_NOUN = re.compile(
    r"(?i)(?:\b(?P<kw>pass(?:word|phrase)?s?|passwd|pwd|pw|cred(?:ential)?s?"
    r"|(?:(?:api|access|secret|private|auth|bearer|bot|deploy|refresh|session|client|app)[ _\-]?)?"
    rf"(?:tokens?|keys?|secrets?)|{_FOREIGN_PASSWORDS})\b|(?P<unspaced>{UNSPACED_PASSWORDS}))"
)
# What may join an unspaced noun to its value: 是, 为, は, 는, a colon, an equals sign.
PARTICLE = re.compile(r"[ \t]*(?:是|为|為|は|が|는|은|이|가|:|=)[ \t]*")
PROSE_WORD = re.compile(r"[^\s`\"'(),;\[\]«»“”„「」『』]+")
PROSE_VERBS = {"is", "was", "are", "were", "be", "reads", "to", "as", ":", "=", "->", "=>", "|"}
PROSE_VERBS |= {"es", "est", "ist", "é", "è", "är", "er", "jest", "это", "adalah", "là", "—"}
PROSE_VERBS |= {"je", "είναι", "هي", "هو", "है", "olarak"}
PROSE_FILLERS = {"now", "still", "just", "currently", "set", "literally", "actually", "then"}
HASH_WORDS = re.compile(
    r"(?i)\b(?:sha\d*|md5|hash(?:es)?|digest|checksum|commit|revision|fingerprint)\b"
)
PROSE_VETO = re.compile(
    r"(?i)(?:sha\w*|md5|hash\w*|digest|checksum|commit|fingerprint|id|uuid|guid|etag|length"
    r"|size|name|file|path|format|type|prefix|header|field|env|variable|example|ids)\W*"
)


# A YAML key whose value is a block scalar (`password: |`), and the block's lines.
YAML_BLOCK = re.compile(
    r"(?m)^(?P<indent>[ \t]*)(?:-[ \t]+)?(?P<name>[\w.\-]+):[ \t]*[|>][+\-]?\d?[ \t]*\n"
    r"(?P<v>(?:(?P=indent)[ \t]+\S[^\n]*(?:\n|$))+)"
)

# Kubernetes Secret manifests: the values under `data:` / `stringData:`.
K8S_SECRET = re.compile(r"(?m)^\s*kind:\s*[\"']?Secret[\"']?\s*$|\"kind\"\s*:\s*\"Secret\"")
K8S_DATA = re.compile(r"(?m)^([ \t]*)(?:data|stringData):[ \t]*\n")
K8S_ITEM = re.compile(r"[ \t]+[\w.\-]+:[ \t]*(?P<val>\"[^\"\n]*\"|'[^'\n]*'|[^\s#]+)?")
K8S_JSON_DATA = re.compile(r"\"(?:data|stringData)\"\s*:\s*\{([^{}]*)\}")
