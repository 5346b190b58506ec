// The Python program of ``RESTTestServer``: written to the test's folder and run with the test venv.

extension RESTTestServer {
    /// A REST catalog server over PyIceberg's SqlCatalog that checks every request against the REST spec.
    static let script = #"""
    # A REST catalog server for the tests, spec-conformant by construction: every request is checked against the
    # request schemas of the Iceberg REST OpenAPI spec (Fixtures/rest/rest-catalog-open-api.yaml) before it is
    # served, and every response against the response schemas. A request that does not validate gets a 400 and
    # is recorded; the test reads the record at the end and fails on any entry. Tables live in PyIceberg's
    # SqlCatalog (a SQLite file and a warehouse folder or S3 bucket), whose commit checks the requirements and
    # swaps the metadata pointer with a compare-and-swap, so a stale commit gets a 409.
    #
    # Usage: python server.py CONFIG.json   (the test writes the config; the server writes its port to
    # <dir>/port once it listens, and runs until terminated).
    #        python server.py --validate SPEC.yaml < [{"schema": "TableUpdate", "instance": {...}}, ...]
    #        prints, for each instance, the list of its violations of the named component schema.
    import datetime, hashlib, hmac, json, os, re, secrets, sys, threading, time, traceback
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qsl, unquote

    import yaml
    from jsonschema.exceptions import ValidationError
    from jsonschema.validators import extend
    from openapi_schema_validator import OAS31Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    VALIDATE_ONLY = sys.argv[1] == "--validate"
    CONFIG = {"spec": sys.argv[2]} if VALIDATE_ONLY else json.load(open(sys.argv[1]))
    SPEC_URI = "urn:iceberg-rest-spec"

    # ---------------------------------------------------------------- the spec validator

    _dispatching = threading.local()
    _base_type = OAS31Validator.VALIDATORS["type"]


    def _type(validator, types, instance, schema):
        # The spec still marks optional nulls with OpenAPI 3.0's `nullable: true` (AssertRefSnapshotId's
        # snapshot-id, PageToken): honour it, as the spec's own text says null is allowed there.
        if instance is None and schema.get("nullable") is True:
            return
        yield from _base_type(validator, types, instance, schema)


    def _discriminator(validator, discriminator, instance, schema):
        # A base schema with a discriminator mapping (TableRequirement, BaseUpdate): the value must be one the
        # mapping names (the spec: servers must answer 400 to unknown updates or requirements), and the instance
        # must validate against the mapped schema. anyOf/oneOf/allOf with a discriminator are the library's.
        if any(k in schema for k in ("anyOf", "oneOf", "allOf")) or not isinstance(instance, dict):
            return
        mapping = discriminator.get("mapping") or {}
        name = discriminator["propertyName"]
        value = instance.get(name)
        if value not in mapping:
            yield ValidationError(f"{name} {value!r} is not one the spec defines ({', '.join(sorted(mapping))})")
            return
        stack = getattr(_dispatching, "stack", None)
        if stack is None:
            stack = _dispatching.stack = set()
        key = (id(instance), mapping[value])
        if key in stack:
            return
        stack.add(key)
        try:
            errors = list(validator.descend(instance, {"$ref": SPEC_URI + mapping[value]}))
        finally:
            stack.discard(key)
        yield from errors


    SpecValidator = extend(OAS31Validator, {"type": _type, "discriminator": _discriminator})


    class Spec:
        def __init__(self, path):
            self.doc = yaml.safe_load(open(path))
            self.registry = Registry().with_resource(SPEC_URI, Resource(contents=self.doc, specification=DRAFT202012))
            self.routes = []
            for template, item in self.doc["paths"].items():
                pattern = re.escape(template)
                pattern = pattern.replace(re.escape("/v1/{prefix}/"), "/v1/(?:(?P<prefix>[^/]+)/)?")
                pattern = re.sub(r"\\\{([a-z-]+)\\\}", lambda m: f"(?P<{m.group(1).replace('-', '_')}>[^/]+)", pattern)
                self.routes.append((re.compile("^" + pattern + "$"), template, item))

        def resolve(self, node):
            while isinstance(node, dict) and "$ref" in node:
                target = self.doc
                for part in node["$ref"].lstrip("#/").split("/"):
                    target = target[part]
                node = target
            return node

        def errors(self, schema, instance):
            # Schemas inside the spec are checked with $refs resolved against the whole document.
            if "$ref" in schema and schema["$ref"].startswith("#"):
                schema = {"$ref": SPEC_URI + schema["$ref"]}
            validator = SpecValidator(schema, registry=self.registry)
            return [f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}" for e in validator.iter_errors(instance)]

        def operation(self, method, path):
            for regex, template, item in self.routes:
                m = regex.match(path)
                if m and method.lower() in item:
                    return template, item, item[method.lower()]
            return None, None, None

        def check_request(self, method, path, query, headers, body):
            template, item, op = self.operation(method, path)
            if op is None:
                return None, [f"{method} {path} is not an operation of the spec"]
            problems = []
            params = [self.resolve(p) for p in item.get("parameters", []) + op.get("parameters", [])]
            declared_query = {p["name"]: p for p in params if p["in"] == "query"}
            for name, value in query:
                p = declared_query.get(name)
                if p is None:
                    problems.append(f"query parameter {name!r} is not defined for {method} {template}")
                    continue
                schema = self.resolve(p.get("schema", {}))
                converted = value
                if schema.get("type") == "integer":
                    try:
                        converted = int(value)
                    except ValueError:
                        problems.append(f"query parameter {name}={value!r} is not an integer")
                        continue
                elif schema.get("type") == "boolean":
                    if value not in ("true", "false"):
                        problems.append(f"query parameter {name}={value!r} is not true or false")
                        continue
                    converted = value == "true"
                problems += [f"query {name}: {e}" for e in self.errors(p.get("schema", {}), converted)]
            names = {n for n, _ in query}
            for p in declared_query.values():
                if p.get("required") and p["name"] not in names:
                    problems.append(f"required query parameter {p['name']!r} is missing")
            for p in params:
                if p["in"] == "header" and p["name"].lower() in headers:
                    raw = headers[p["name"].lower()]
                    schema = self.resolve(p.get("schema", {}))
                    value = [v.strip() for v in raw.split(",")] if schema.get("type") == "array" else raw
                    problems += [f"header {p['name']}: {e}" for e in self.errors(p.get("schema", {}), value)]
            request_body = self.resolve(op.get("requestBody")) if op.get("requestBody") else None
            if request_body is None:
                if body:
                    problems.append(f"{method} {template} takes no body, but one was sent")
            elif body or request_body.get("required"):
                content_type = headers.get("content-type", "").split(";")[0].strip()
                content = request_body.get("content", {})
                if content_type not in content:
                    problems.append(f"Content-Type {content_type!r} is not one of {sorted(content)}")
                else:
                    try:
                        if content_type == "application/json":
                            instance = json.loads(body.decode("utf-8"))
                        else:
                            instance = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
                    except Exception as e:
                        problems.append(f"body is not {content_type}: {e}")
                    else:
                        problems += self.errors(content[content_type]["schema"], instance)
            return template, problems

        def check_response(self, method, template, status, body):
            op = self.doc["paths"][template][method.lower()]
            responses = op.get("responses", {})
            spec = responses.get(status) or responses.get(str(status)) or responses.get(f"{str(status)[0]}XX")
            if spec is None:
                return [f"status {status} is not a response of {method} {template}"]
            spec = self.resolve(spec)
            content = spec.get("content", {})
            if not content:
                return [] if not body else [f"{method} {template} {status} has no body in the spec"]
            schema = content.get("application/json", {}).get("schema")
            if schema is None:
                return []
            return [f"response {status}: {e}" for e in self.errors(schema, json.loads(body))]


    SPEC = Spec(CONFIG["spec"])
    if VALIDATE_ONLY:
        checks = json.load(sys.stdin)
        print(json.dumps([SPEC.errors({"$ref": "#/components/schemas/" + c["schema"]}, c["instance"]) for c in checks]))
        sys.exit(0)

    # ---------------------------------------------------------------- the catalog

    from pyiceberg.catalog.sql import SqlCatalog
    from pyiceberg.exceptions import (CommitFailedException, NamespaceAlreadyExistsError, NamespaceNotEmptyError,
                                      NoSuchNamespaceError, NoSuchTableError, TableAlreadyExistsError)
    from pyiceberg.partitioning import PartitionSpec
    from pyiceberg.schema import Schema
    from pyiceberg.table import CommitTableRequest
    from pyiceberg.table.sorting import SortOrder

    # The server's own S3 client (pyarrow's) gives up on a 3 s stall by default; the local S3 server stalls that
    # long when the whole suite keeps it busy.
    CATALOG = SqlCatalog("rest-backend", **{"uri": f"sqlite:///{CONFIG['dir']}/catalog.db", "warehouse": CONFIG["warehouse"],
                                             "s3.request-timeout": "60", "s3.connect-timeout": "10",
                                             **CONFIG.get("catalog_properties", {})})
    LOCK = threading.Lock()  # one SQLite writer at a time; commits still race on their requirements
    PREFIX = CONFIG.get("prefix")
    AUTH = CONFIG.get("auth", {"mode": "none"})
    STATE = {"requests": [], "violations": [], "tokens": {}, "token_requests": 0, "rejected": 0, "fail_next_commit": None}
    STATE_LOCK = threading.Lock()
    ENDPOINTS = ["GET /v1/{prefix}/namespaces", "POST /v1/{prefix}/namespaces", "GET /v1/{prefix}/namespaces/{namespace}",
                 "HEAD /v1/{prefix}/namespaces/{namespace}", "DELETE /v1/{prefix}/namespaces/{namespace}",
                 "GET /v1/{prefix}/namespaces/{namespace}/tables", "POST /v1/{prefix}/namespaces/{namespace}/tables",
                 "GET /v1/{prefix}/namespaces/{namespace}/tables/{table}", "HEAD /v1/{prefix}/namespaces/{namespace}/tables/{table}",
                 "POST /v1/{prefix}/namespaces/{namespace}/tables/{table}",
                 "DELETE /v1/{prefix}/namespaces/{namespace}/tables/{table}"]


    class Answer(Exception):
        def __init__(self, status, error_type="", message="", body=None):
            self.status, self.body = status, body
            if body is None and status >= 400:
                self.body = {"error": {"message": message, "type": error_type, "code": status}}


    def namespace_of(segment):
        return tuple(unquote(segment).split("\x1f"))


    def page(items, query, key):
        # Paging as the spec's PageToken describes it: only when the request sends pageToken.
        params = dict(query)
        if "pageToken" not in params:
            return {key: items}
        start = int(params["pageToken"] or 0)
        size = min(int(params.get("pageSize") or CONFIG.get("page_size", 1000)), CONFIG.get("page_size", 1000))
        end = start + size
        return {key: items[start:end], "next-page-token": str(end) if end < len(items) else None}


    def load_result(table):
        return {"metadata-location": table.metadata_location, "metadata": json.loads(table.metadata.model_dump_json()),
                "config": CONFIG.get("table_config", {})}


    def serve(method, groups, query, body):
        route = groups["route"]
        params = dict(query)
        if route == "/v1/config":
            if "warehouse" in params and CONFIG.get("warehouse_name") and params["warehouse"] != CONFIG["warehouse_name"]:
                raise Answer(404, "NoSuchWarehouseException", f"warehouse {params['warehouse']} does not exist")
            overrides = dict(CONFIG.get("overrides", {}))
            if PREFIX:
                overrides["prefix"] = PREFIX
            config = {"defaults": CONFIG.get("defaults", {}), "overrides": overrides}
            if CONFIG.get("advertise_endpoints", True):
                config["endpoints"] = ENDPOINTS
            return 200, config
        if groups.get("prefix") != PREFIX:
            raise Answer(404, "NoSuchPrefixException", f"no catalog under prefix {groups.get('prefix')!r}")
        namespace = namespace_of(groups["namespace"]) if groups.get("namespace") else None
        table = unquote(groups["table"]) if groups.get("table") else None
        ident = namespace + (table,) if table else None
        with LOCK:
            if route == "namespaces" and method == "GET":
                parent = tuple(params["parent"].split("\x1f")) if params.get("parent") else ()
                names = sorted(CATALOG.list_namespaces(parent))
                return 200, page([list(n) for n in names], query, "namespaces")
            if route == "namespaces" and method == "POST":
                request = json.loads(body)
                CATALOG.create_namespace(tuple(request["namespace"]), request.get("properties", {}))
                return 200, {"namespace": request["namespace"], "properties": request.get("properties", {})}
            if route == "namespace" and method == "GET":
                return 200, {"namespace": list(namespace), "properties": CATALOG.load_namespace_properties(namespace)}
            if route == "namespace" and method == "HEAD":
                if not CATALOG.namespace_exists(namespace):
                    raise Answer(404, "NoSuchNamespaceException", "no such namespace")
                return 204, None
            if route == "namespace" and method == "DELETE":
                CATALOG.drop_namespace(namespace)
                return 204, None
            if route == "tables" and method == "GET":
                names = sorted(CATALOG.list_tables(namespace))
                return 200, page([{"namespace": list(n[:-1]), "name": n[-1]} for n in names], query, "identifiers")
            if route == "tables" and method == "POST":
                request = json.loads(body)
                created = CATALOG.create_table(
                    namespace + (request["name"],), schema=Schema.model_validate(request["schema"]),
                    location=request.get("location"),
                    partition_spec=PartitionSpec.model_validate(request.get("partition-spec") or {"fields": []}),
                    sort_order=SortOrder.model_validate(request.get("write-order") or {"order-id": 0, "fields": []}),
                    properties=request.get("properties", {}))
                return 200, load_result(created)
            if route == "table" and method == "GET":
                return 200, load_result(CATALOG.load_table(ident))
            if route == "table" and method == "HEAD":
                if not CATALOG.table_exists(ident):
                    raise Answer(404, "NoSuchTableException", f"table {'.'.join(ident)} does not exist")
                return 204, None
            if route == "table" and method == "DELETE":
                if params.get("purgeRequested") == "true":
                    CATALOG.purge_table(ident)
                else:
                    CATALOG.drop_table(ident)
                return 204, None
            if route == "table" and method == "POST":
                request = json.loads(body)
                request.setdefault("identifier", {"namespace": list(namespace), "name": table})
                commit = CommitTableRequest.model_validate(request)
                with STATE_LOCK:
                    fail, STATE["fail_next_commit"] = STATE["fail_next_commit"], None
                if fail:
                    raise Answer(fail, "CommitStateUnknownException", "injected failure: the commit state is unknown")
                current = CATALOG.load_table(ident)
                response = CATALOG.commit_table(current, commit.requirements, commit.updates)
                return 200, {"metadata-location": response.metadata_location,
                             "metadata": json.loads(response.metadata.model_dump_json())}
        raise Answer(404, "NotFoundException", f"no route for {method} {route}")


    ROUTES = [
        (re.compile(r"^/v1/config$"), "/v1/config"),
        (re.compile(r"^/v1/(?:(?P<prefix>[^/]+)/)?namespaces$"), "namespaces"),
        (re.compile(r"^/v1/(?:(?P<prefix>[^/]+)/)?namespaces/(?P<namespace>[^/]+)$"), "namespace"),
        (re.compile(r"^/v1/(?:(?P<prefix>[^/]+)/)?namespaces/(?P<namespace>[^/]+)/tables$"), "tables"),
        (re.compile(r"^/v1/(?:(?P<prefix>[^/]+)/)?namespaces/(?P<namespace>[^/]+)/tables/(?P<table>[^/]+)$"), "table"),
    ]

    ERRORS = [(NoSuchTableError, 404, "NoSuchTableException"), (NoSuchNamespaceError, 404, "NoSuchNamespaceException"),
              (NamespaceAlreadyExistsError, 409, "AlreadyExistsException"), (TableAlreadyExistsError, 409, "AlreadyExistsException"),
              (NamespaceNotEmptyError, 409, "NamespaceNotEmptyException"), (CommitFailedException, 409, "CommitFailedException")]

    # ---------------------------------------------------------------- authentication


    def check_sigv4(method, raw_path, headers, body):
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        m = re.fullmatch(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
                         r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})", headers.get("authorization", ""))
        if not m:
            return "the Authorization header is not a SigV4 header"
        key, day, region, service, signed, signature = m.groups()
        if key != AUTH["access_key"] or region != AUTH["region"] or service != AUTH["service"]:
            return f"credential scope {key}/{region}/{service} is not {AUTH['access_key']}/{AUTH['region']}/{AUTH['service']}"
        amz_date = headers.get("x-amz-date", "")
        when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
        if day != amz_date[:8] or abs((datetime.datetime.now(datetime.timezone.utc) - when).total_seconds()) > 900:
            return f"X-Amz-Date {amz_date} does not match the scope day {day} or is not recent"
        if headers.get("x-amz-content-sha256") != hashlib.sha256(body).hexdigest():
            return "X-Amz-Content-SHA256 is not the SHA-256 of the body"
        names = signed.split(";")
        required = {"host", "x-amz-date", "x-amz-content-sha256"} | ({"content-type"} if body else set())
        if not required <= set(names):
            return f"SignedHeaders {signed} leaves out {sorted(required - set(names))}"
        # botocore's signer is the oracle: it computes the signature of the request as received.
        request = AWSRequest(method=method, url=f"http://{headers['host']}{raw_path}", data=body,
                             headers={n: headers[n] for n in names})
        request.context["timestamp"] = amz_date
        signer = SigV4Auth(Credentials(AUTH["access_key"], AUTH["secret_key"]), service, region)
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        if not hmac.compare_digest(expected, signature):
            return f"signature mismatch; botocore's canonical request is:\n{canonical}"
        with STATE_LOCK:
            STATE.setdefault("sigv4_verified", 0)
            STATE["sigv4_verified"] += 1
        return None


    def check_auth(method, raw_path, headers, body):
        mode = AUTH["mode"]
        if mode == "none":
            return None
        if mode == "sigv4":
            return check_sigv4(method, raw_path, headers, body)
        value = headers.get("authorization", "")
        if not value.startswith("Bearer "):
            return "no bearer token"
        token = value[len("Bearer "):]
        if mode == "bearer":
            # The catalog's token, or the one handed out in LoadTableResult's config for table requests.
            accepted = {AUTH["token"], CONFIG.get("table_config", {}).get("token")}
            return None if token in accepted else "unknown bearer token"
        with STATE_LOCK:
            expires = STATE["tokens"].get(token)
        if expires is None:
            return "unknown bearer token"
        if time.time() >= expires:
            return "expired bearer token"
        return None


    def issue_token(headers, body):
        form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        problems = SPEC.errors({"$ref": "#/components/schemas/OAuthTokenRequest"}, form)
        if headers.get("content-type", "").split(";")[0] != "application/x-www-form-urlencoded":
            problems.append("the token request is not application/x-www-form-urlencoded")
        if problems:
            return 400, {"error": "invalid_request", "error_description": "; ".join(problems)}, problems
        with STATE_LOCK:
            STATE["token_requests"] += 1
        if form.get("grant_type") != "client_credentials" or form.get("client_id") != AUTH["client_id"] \
                or form.get("client_secret") != AUTH["client_secret"]:
            return 401, {"error": "invalid_client", "error_description": "unknown client or secret"}, []
        if AUTH.get("scope") and form.get("scope") != AUTH["scope"]:
            return 400, {"error": "invalid_scope", "error_description": f"scope {form.get('scope')!r}"}, []
        token = secrets.token_hex(16)
        lifetime = AUTH.get("expires_in", 3600)
        with STATE_LOCK:
            STATE["tokens"][token] = time.time() + lifetime
        return 200, {"access_token": token, "token_type": "bearer", "expires_in": lifetime,
                     "issued_token_type": "urn:ietf:params:oauth:token-type:access_token"}, []

    # ---------------------------------------------------------------- HTTP


    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def reply(self, status, payload, content_type="application/json"):
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            if payload is not None:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            return data

        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            raw = self.path
            path, _, query_text = raw.partition("?")
            query = parse_qsl(query_text, keep_blank_values=True)
            headers = {k.lower(): v for k, v in self.headers.items()}
            method = self.command
            entry = {"method": method, "path": path, "query": query, "authorization": headers.get("authorization", "").split(" ")[0],
                     "bearer": headers.get("authorization", "")[7:] if headers.get("authorization", "").startswith("Bearer ") else None,
                     "original_authorization": headers.get("original-authorization"),
                     "access_delegation": headers.get("x-iceberg-access-delegation")}
            try:
                if path.startswith("/_test/"):
                    return self.control(path, body)
                if path in AUTH.get("token_paths", []) and path != "/v1/oauth/tokens":
                    status, payload, problems = issue_token(headers, body)
                    self.record(entry, status, problems)
                    return self.reply(status, payload)
                template, problems = SPEC.check_request(method, path, query, headers, body)
                if problems:
                    self.record(entry, 400, problems)
                    return self.reply(400, {"error": {"message": "request does not follow the REST spec: " + "; ".join(problems),
                                                      "type": "BadRequestException", "code": 400}})
                if template == "/v1/oauth/tokens":
                    status, payload, problems = issue_token(headers, body)
                    self.record(entry, status, problems)
                    return self.reply(status, payload)
                failure = check_auth(method, raw, headers, body)
                if failure:
                    with STATE_LOCK:
                        STATE["rejected"] += 1
                    status = 403 if AUTH["mode"] == "sigv4" else 401
                    self.record(entry, status, [], note=failure)
                    return self.reply(status, {"error": {"message": failure, "type": "NotAuthorizedException", "code": status}})
                groups = dict(next(m.groupdict() for r, name in ROUTES if (m := r.match(path))))
                groups["route"] = next(name for r, name in ROUTES if r.match(path))
                try:
                    status, payload = serve(method, groups, query, body)
                except Answer as a:
                    status, payload = a.status, a.body
                except tuple(e for e, _, _ in ERRORS) as e:
                    status, kind = next((s, k) for cls, s, k in ERRORS if isinstance(e, cls))
                    payload = {"error": {"message": str(e), "type": kind, "code": status}}
                data = json.dumps(payload).encode() if payload is not None else b""
                response_problems = SPEC.check_response(method, template, status, data) if method != "HEAD" else []
                self.record(entry, status, [f"server: {p}" for p in response_problems])
                self.reply(status, payload)
            except Exception as e:
                self.record(entry, 500, [], note=traceback.format_exc())
                self.reply(500, {"error": {"message": f"test server failure: {e}", "type": "InternalServerError", "code": 500}})

        def record(self, entry, status, problems, note=None):
            entry["status"] = status
            if note:
                entry["note"] = note
            with STATE_LOCK:
                STATE["requests"].append(entry)
                for p in problems:
                    STATE["violations"].append(f"{entry['method']} {entry['path']}: {p}")

        def control(self, path, body):
            if path == "/_test/state":
                with STATE_LOCK:
                    state = {k: v for k, v in STATE.items() if k != "tokens"}
                    state["tokens_issued"] = len(STATE["tokens"])
                    return self.reply(200, json.loads(json.dumps(state)))
            if path == "/_test/revoke-tokens":
                with STATE_LOCK:
                    STATE["tokens"].clear()
                return self.reply(200, {})
            if path == "/_test/fail-next-commit":
                with STATE_LOCK:
                    STATE["fail_next_commit"] = json.loads(body)["status"]
                return self.reply(200, {})
            return self.reply(404, {})

        do_GET = do_POST = do_DELETE = do_HEAD = do_PUT = handle_any


    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with open(f"{CONFIG['dir']}/port.tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(f"{CONFIG['dir']}/port.tmp", f"{CONFIG['dir']}/port")
    server.serve_forever()
    """#
}
