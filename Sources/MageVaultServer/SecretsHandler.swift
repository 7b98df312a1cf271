#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MageVault

/// Answers every request `serve` receives: the Secrets page and the JSON API.
///
/// | route | does |
/// |---|---|
/// | `GET /` | the Secrets page (`?project=&pipeline=` picks the scope) |
/// | `GET /api/secrets` | `{"secrets": [{"id", "name", "scope", "project_uuid", "pipeline_uuid", "updated_at"}], "metadata": {"count", "next"}, "environment": {…}}`, never values; Mage's `_limit` and `_offset` page it |
/// | `POST /api/secrets` | `{"secret": {"name", "value", "entity"?, "project_uuid"?, "pipeline_uuid"?}}` sets a secret in the scope the body (or else the query) names: 201 when new, 200 when it replaced a value |
/// | `DELETE /api/secrets/NAME_OR_ID` | deletes it: 200, or 404 when the scope has no such secret |
///
/// Every API route takes `project` and `pipeline` (or Mage's `project_uuid` and
/// `pipeline_uuid`) query parameters for the scope. Errors are
/// `{"error": {"code": N, "message": "…"}}`: 400 for bad input (the vault is unchanged),
/// 401 without a valid token or cookie, 403 for a cross-site or misaddressed request.
struct SecretsHandler: Sendable {
    let store: SecretsStore
    let access: AccessControl

    /// The largest request body read: a 1 MiB value with every byte escaped, and room to spare.
    static let maximumBodyBytes = 8 << 20

    func respond(to request: WebRequest) async -> WebResponse {
        if let problem = access.hostProblem(request) { return Reply.error(.forbidden, problem) }
        let path = request.path
        if path == "/" || path == "/index.html" {
            guard request.method == "GET" || request.method == "HEAD" else { return Reply.methodNotAllowed("GET") }
            return await page(request)
        }
        guard path == "/api/secrets" || path.hasPrefix("/api/secrets/") else {
            return Reply.error(.notFound, "no such page: \(path)")
        }
        guard let credential = access.credential(of: request),
            credential != .urlToken || request.method == "GET"
        else {
            var reply = Reply.error(.unauthorized, "a valid token is required: open the URL mage-vault serve printed, or send Authorization: Bearer <token>")
            reply.headers.append(("WWW-Authenticate", "Bearer"))
            return reply
        }
        let scope: Scope
        do { scope = try Self.scope(of: request) } catch { return Reply.error(.badRequest, error.description) }
        if path == "/api/secrets" {
            switch request.method {
            case "GET": return await list(scope, request)
            case "POST":
                if let problem = access.crossSiteProblem(request, credential: credential) { return Reply.error(.forbidden, problem) }
                return await create(request, scope: scope)
            default: return Reply.methodNotAllowed("GET, POST")
            }
        }
        guard request.method == "DELETE" else { return Reply.methodNotAllowed("DELETE") }
        if let problem = access.crossSiteProblem(request, credential: credential) { return Reply.error(.forbidden, problem) }
        guard let name = PercentEncoding.decode(path.dropFirst("/api/secrets/".count)) else {
            return Reply.error(.badRequest, "the secret's name in the path is not valid percent-encoded UTF-8")
        }
        return await delete(name, scope: scope)
    }

    /// Mage's paging parameters, `_limit` and `_offset` (non-negative integers).
    static func paging(of request: WebRequest) -> (limit: Int?, offset: Int)? {
        func number(_ name: String) -> Int?? {
            guard let text = request.query.first(where: { $0.name == name })?.value else { return .some(nil) }
            guard let value = Int(text), value >= 0 else { return nil }
            return .some(value)
        }
        guard let limit = number("_limit"), let offset = number("_offset") else { return nil }
        return (limit, offset ?? 0)
    }

    // MARK: Routes

    private func page(_ request: WebRequest) async -> WebResponse {
        // The printed URL opened again in a browser that already has the cookie still gets
        // the token out of the address bar.
        let credential = request.query("token").map(access.token.matches) == true ? .urlToken : access.credential(of: request)
        switch credential {
        case .urlToken?:
            // Trade the token for the cookie, and take it out of the address bar and history.
            let kept = request.query.filter { $0.name == "project" || $0.name == "pipeline" }
            var location = "/"
            if !kept.isEmpty {
                location += "?" + kept.map { "\(PercentEncoding.encode($0.name))=\(PercentEncoding.encode($0.value))" }.joined(separator: "&")
            }
            return Reply.redirect(to: location, cookie: access.sessionCookie)
        case .cookie?, .bearer?:
            let scope: Scope
            do { scope = try Self.scope(of: request) } catch { return Reply.page(.badRequest, SecretsPage.problem(error.description)) }
            let info: EnvironmentInfo
            do { info = try await store.info(scope) } catch {
                return Reply.page(.internalServerError, SecretsPage.problem(error.description))
            }
            let nonce = AccessToken.random().text
            return Reply.page(.ok, SecretsPage.html(info: info, csrf: access.csrf.text, nonce: nonce), nonce: nonce)
        case nil:
            return Reply.page(.unauthorized, SecretsPage.problem(
                "This page needs the token from the URL that mage-vault serve printed. Open that URL (it signs this browser in), or restart mage-vault serve for a new one."))
        }
    }

    private func list(_ scope: Scope, _ request: WebRequest) async -> WebResponse {
        guard let (limit, offset) = Self.paging(of: request) else {
            return Reply.error(.badRequest, "_limit and _offset take whole numbers of at least 0")
        }
        do {
            let (info, secrets) = try await store.list(scope)
            let page = secrets.dropFirst(offset).prefix(limit ?? Int.max)
            let items = page.map { Self.secretJSON(name: $0.0.name, scope: $0.0.scope, updated: $0.0.updated, id: $0.id) }
            // Mage's metadata: how many secrets there are, and whether a later page has more.
            let metadata = "{\"count\":\(secrets.count),\"next\":\(offset + page.count < secrets.count)}"
            return Reply.json(
                .ok, "{\"secrets\":[\(items.joined(separator: ","))],\"metadata\":\(metadata),\"environment\":\(Self.environmentJSON(info))}")
        } catch {
            return Reply.failure(error)
        }
    }

    private func create(_ request: WebRequest, scope: Scope) async -> WebResponse {
        let contentType = request.header("content-type")?.split(separator: ";").first?.filter { $0 != " " }.lowercased()
        guard contentType == "application/json" else {
            return Reply.error(.unsupportedMediaType, "send the secret as Content-Type: application/json")
        }
        let body: [UInt8]
        do {
            guard let read = try await request.readBody(Self.maximumBodyBytes) else {
                return Reply.error(.payloadTooLarge, "the body is larger than \(Self.maximumBodyBytes >> 20) MiB (values are at most 1 MiB)")
            }
            body = read
        } catch {
            return Reply.error(.badRequest, "the body could not be read")
        }
        let secret: CreateRequest.Secret
        do { secret = try JSONDecoder().decode(CreateRequest.self, from: Data(body)).secret } catch {
            return Reply.error(.badRequest, Self.describe(error))
        }
        let target: Scope
        do { target = try Self.scope(of: secret, query: scope, queryNamesScope: request.query.contains { Self.scopeParameters.contains($0.name) }) } catch {
            return Reply.error(.badRequest, error.description)
        }
        // The decoder keeps the first of two same-named members, most JSON readers the last:
        // refuse rather than store a value the sender may not have meant.
        let repeated = JSONText.repeatedMemberNames(in: body)
        guard repeated.isEmpty else {
            return Reply.error(
                .badRequest,
                "the body gives \(repeated.joined(separator: ", ")) more than once; send each field once: {\"secret\": {\"name\": \"…\", \"value\": \"…\"}}")
        }
        do {
            let (created, updated, id) = try await store.set(target, name: secret.name, value: secret.value)
            return Reply.json(created ? .created : .ok, "{\"secret\":\(Self.secretJSON(name: secret.name, scope: target, updated: updated, id: id))}")
        } catch {
            return Reply.failure(error)
        }
    }

    private func delete(_ nameOrID: String, scope: Scope) async -> WebResponse {
        do {
            guard let name = try await store.delete(scope, nameOrID: nameOrID) else {
                return Reply.error(.notFound, "no secret named (or with the id) '\(nameOrID)' in the \(scope) scope")
            }
            return Reply.json(.ok, "{\"secret\":\(Self.secretJSON(name: name, scope: scope, updated: nil))}")
        } catch {
            return Reply.failure(error)
        }
    }

    // MARK: Parsing

    /// The body of `POST /api/secrets`, Mage's shape.
    struct CreateRequest: Decodable {
        struct Secret: Decodable {
            let name: String
            let value: String
            /// Mage's scope fields: `entity` is `global`, `project` or `pipeline`.
            let entity: String?
            let project_uuid: String?
            let pipeline_uuid: String?
        }
        let secret: Secret
    }

    /// Says what is wrong with a body in words of its fields, never quoting the body (it
    /// may hold a value).
    static func describe(_ error: any Error) -> String {
        func path(_ context: DecodingError.Context, _ last: (any CodingKey)? = nil) -> String {
            (context.codingPath + (last.map { [$0] } ?? [])).map(\.stringValue).joined(separator: ".")
        }
        switch error as? DecodingError {
        case .keyNotFound(let key, let context)?:
            return "missing field \(path(context, key)): send {\"secret\": {\"name\": \"…\", \"value\": \"…\"}}"
        case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?:
            let field = path(context)
            let kind = field == "secret.name" || field == "secret.value" ? "a string" : "an object"
            return "\(field.isEmpty ? "the body" : field) must be \(kind): send {\"secret\": {\"name\": \"…\", \"value\": \"…\"}}"
        default:
            return "the body is not valid JSON: send {\"secret\": {\"name\": \"…\", \"value\": \"…\"}}"
        }
    }

    /// The query parameters that name a scope.
    static let scopeParameters: Set<String> = ["project", "pipeline", "project_uuid", "pipeline_uuid"]

    /// The scope a `POST` writes to: the one the body names with Mage's `entity`,
    /// `project_uuid` and `pipeline_uuid` (as Mage's `create_secret` takes them), else the
    /// query's. A body and a query that name different scopes are refused, never guessed.
    static func scope(of secret: CreateRequest.Secret, query: Scope, queryNamesScope: Bool) throws(VaultError) -> Scope {
        let named: Scope?
        switch secret.entity {
        case nil:
            named = secret.project_uuid == nil && secret.pipeline_uuid == nil
                ? nil : try Scope(project: secret.project_uuid, pipeline: secret.pipeline_uuid)
        case "global"?: named = .global
        case "project"?:
            guard let project = secret.project_uuid else { throw .invalidScope("entity 'project' needs project_uuid in the body") }
            named = try Scope(project: project, pipeline: nil)
        case "pipeline"?:
            guard let project = secret.project_uuid, let pipeline = secret.pipeline_uuid else {
                throw .invalidScope("entity 'pipeline' needs project_uuid and pipeline_uuid in the body")
            }
            named = try Scope(project: project, pipeline: pipeline)
        case let other?: throw .invalidScope("entity must be 'global', 'project' or 'pipeline', not '\(other)'")
        }
        guard let named else { return query }
        if queryNamesScope, named != query {
            throw .invalidScope("the body names the \(named) scope and the query the \(query) scope; nothing was stored")
        }
        return named
    }

    /// The scope named by the query: `project`/`pipeline` or Mage's `project_uuid`/`pipeline_uuid`.
    static func scope(of request: WebRequest) throws(VaultError) -> Scope {
        func value(_ names: String...) -> String? {
            request.query.first { names.contains($0.name) }.map(\.value)
        }
        let project = value("project", "project_uuid"), pipeline = value("pipeline", "pipeline_uuid")
        if project == nil, pipeline != nil { throw .invalidScope("a pipeline scope needs its project: add project=… to the query") }
        return try Scope(project: project, pipeline: pipeline)
    }

    // MARK: JSON

    static func secretJSON(name: String, scope: Scope, updated: Timestamp?, id: String? = nil) -> String {
        var fields = (id.map { ["\"id\":\(JSONText.quoted($0))"] } ?? []) + ["\"name\":\(JSONText.quoted(name))"] + scopeFields(scope)
        if let updated { fields.append("\"updated_at\":\"\(updated.iso8601)\"") }
        return "{" + fields.joined(separator: ",") + "}"
    }

    static func environmentJSON(_ info: EnvironmentInfo) -> String {
        let fields =
            scopeFields(info.scope) + [
                "\"uuid\":\(info.uuid.map { JSONText.quoted($0.description) } ?? "null")",
                "\"data_dir\":\(JSONText.quoted(info.dataDirectory))",
                "\"vault_file\":\(JSONText.quoted(info.logFile))",
            ]
        return "{" + fields.joined(separator: ",") + "}"
    }

    private static func scopeFields(_ scope: Scope) -> [String] {
        switch scope {
        case .global: ["\"scope\":\"global\""]
        case .project(let project): ["\"scope\":\"project\"", "\"project_uuid\":\(JSONText.quoted(project))"]
        case .pipeline(let project, let pipeline):
            ["\"scope\":\"pipeline\"", "\"project_uuid\":\(JSONText.quoted(project))", "\"pipeline_uuid\":\(JSONText.quoted(pipeline))"]
        }
    }
}

/// HTTP status codes the server answers with.
enum Status: Int {
    case ok = 200, created = 201, seeOther = 303
    case badRequest = 400, unauthorized = 401, forbidden = 403, notFound = 404, methodNotAllowed = 405
    case payloadTooLarge = 413, unsupportedMediaType = 415
    case internalServerError = 500, serviceUnavailable = 503
}

/// Responses, with the headers every one of them carries.
enum Reply {
    /// No caching (names are private), no sniffing, no framing, no referrer.
    static func headers(contentType: String, policy: String = "default-src 'none'; frame-ancestors 'none'") -> [(name: String, value: String)] {
        [
            ("Content-Type", contentType),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "no-referrer"),
            ("Cross-Origin-Resource-Policy", "same-origin"),
            ("Content-Security-Policy", policy),
        ]
    }

    static func json(_ status: Status, _ body: String) -> WebResponse {
        WebResponse(status: status.rawValue, headers: headers(contentType: "application/json; charset=utf-8"), body: Array((body + "\n").utf8))
    }

    static func error(_ status: Status, _ message: String) -> WebResponse {
        json(status, "{\"error\":{\"code\":\(status.rawValue),\"message\":\(JSONText.quoted(message))}}")
    }

    static func failure(_ error: VaultError) -> WebResponse {
        let status: Status =
            switch error.kind {
            case .usage: .badRequest
            case .notFound: .notFound
            case .wrongKey, .damaged, .permission, .io: .internalServerError
            }
        return Reply.error(status, error.description)
    }

    static func methodNotAllowed(_ allowed: String) -> WebResponse {
        var reply = error(.methodNotAllowed, "this route takes \(allowed)")
        reply.headers.append(("Allow", allowed))
        return reply
    }

    static func page(_ status: Status, _ html: String, nonce: String? = nil) -> WebResponse {
        let policy =
            nonce.map {
                "default-src 'none'; script-src 'nonce-\($0)'; style-src 'nonce-\($0)'; connect-src 'self'; img-src 'self' data:; "
                    + "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
            } ?? "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
        return WebResponse(status: status.rawValue, headers: headers(contentType: "text/html; charset=utf-8", policy: policy), body: Array(html.utf8))
    }

    static func redirect(to location: String, cookie: String) -> WebResponse {
        var headers = headers(contentType: "text/plain; charset=utf-8")
        headers.append(("Location", location))
        headers.append(("Set-Cookie", cookie))
        return WebResponse(status: Status.seeOther.rawValue, headers: headers, body: Array("Signed in; continue at \(location)\n".utf8))
    }
}
