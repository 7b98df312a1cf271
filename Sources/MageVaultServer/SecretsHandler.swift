import FlyingFox
import Foundation
import MageVault

/// Answers every request `serve` receives: the Secrets page and the JSON API.
///
/// | route | does |
/// |---|---|
/// | `GET /` | the Secrets page (`?project=&pipeline=` picks the scope) |
/// | `GET /api/secrets` | `{"secrets": [{"name", "scope", "project_uuid", "pipeline_uuid", "updated_at"}], "environment": {…}}`, never values |
/// | `POST /api/secrets` | `{"secret": {"name", "value"}}` sets a secret: 201 when new, 200 when it replaced a value |
/// | `DELETE /api/secrets/NAME` | deletes it: 200, or 404 when the scope has no such secret |
///
/// Every API route takes `project` and `pipeline` (or Mage's `project_uuid` and
/// `pipeline_uuid`) query parameters for the scope. Errors are
/// `{"error": {"code": N, "message": "…"}}`: 400 for bad input (the vault is unchanged),
/// 401 without a valid token or cookie, 403 for a cross-site or misaddressed request.
struct SecretsHandler: HTTPHandler {
    let store: SecretsStore
    let access: AccessControl

    /// The largest request body read: a 1 MiB value with every byte escaped, and room to spare.
    static let maximumBodyBytes = 8 << 20

    func handleRequest(_ request: HTTPRequest) async throws -> HTTPResponse {
        if let problem = access.hostProblem(request) { return Reply.error(.forbidden, problem) }
        let path = Self.rawPath(of: request)
        if path == "/" || path == "/index.html" {
            guard request.method == .GET || request.method == .HEAD else { return Reply.methodNotAllowed("GET") }
            return await page(request)
        }
        guard path == "/api/secrets" || path.hasPrefix("/api/secrets/") else {
            return Reply.error(.notFound, "no such page: \(path)")
        }
        guard let credential = access.credential(of: request),
            credential != .urlToken || request.method == .GET
        else {
            var reply = Reply.error(.unauthorized, "a valid token is required: open the URL mage-vault serve printed, or send Authorization: Bearer <token>")
            reply.headers[HTTPHeader("WWW-Authenticate")] = "Bearer"
            return reply
        }
        let scope: Scope
        do { scope = try Self.scope(of: request) } catch { return Reply.error(.badRequest, error.description) }
        if path == "/api/secrets" {
            switch request.method {
            case .GET: return await list(scope)
            case .POST:
                if let problem = access.crossSiteProblem(request, credential: credential) { return Reply.error(.forbidden, problem) }
                return await create(request, scope: scope)
            default: return Reply.methodNotAllowed("GET, POST")
            }
        }
        guard request.method == .DELETE else { return Reply.methodNotAllowed("DELETE") }
        if let problem = access.crossSiteProblem(request, credential: credential) { return Reply.error(.forbidden, problem) }
        guard let name = String(path.dropFirst("/api/secrets/".count)).removingPercentEncoding else {
            return Reply.error(.badRequest, "the secret's name in the path is not valid percent-encoded UTF-8")
        }
        return await delete(name, scope: scope)
    }

    // MARK: Routes

    private func page(_ request: HTTPRequest) async -> HTTPResponse {
        switch access.credential(of: request) {
        case .urlToken?:
            // Trade the token for the cookie, and take it out of the address bar and history.
            let kept = request.query.filter { $0.name == "project" || $0.name == "pipeline" }
            var location = "/"
            if !kept.isEmpty {
                location += "?" + kept.map { "\(Self.queryEscaped($0.name))=\(Self.queryEscaped($0.value))" }.joined(separator: "&")
            }
            return Reply.redirect(to: location, cookie: access.sessionCookie)
        case .cookie?, .bearer?:
            let scope: Scope
            do { scope = try Self.scope(of: request) } catch { return Reply.page(.badRequest, SecretsPage.problem(error.description)) }
            let info: EnvironmentInfo
            do { info = try await store.list(scope).0 } catch {
                return Reply.page(.internalServerError, SecretsPage.problem(error.description))
            }
            let nonce = AccessToken.random().text
            return Reply.page(.ok, SecretsPage.html(info: info, csrf: access.csrf.text, nonce: nonce), nonce: nonce)
        case nil:
            return Reply.page(.unauthorized, SecretsPage.problem(
                "This page needs the token from the URL that mage-vault serve printed. Open that URL (it signs this browser in), or restart mage-vault serve for a new one."))
        }
    }

    private func list(_ scope: Scope) async -> HTTPResponse {
        do {
            let (info, secrets) = try await store.list(scope)
            let items = secrets.map { Self.secretJSON(name: $0.name, scope: $0.scope, updated: $0.updated) }
            return Reply.json(.ok, "{\"secrets\":[\(items.joined(separator: ","))],\"environment\":\(Self.environmentJSON(info))}")
        } catch {
            return Reply.failure(error)
        }
    }

    private func create(_ request: HTTPRequest, scope: Scope) async -> HTTPResponse {
        let contentType = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        guard contentType == "application/json" else {
            return Reply.error(.unsupportedMediaType, "send the secret as Content-Type: application/json")
        }
        let body: Data
        switch await Self.readBody(request) {
        case .read(let data): body = data
        case .refused(let reply): return reply
        }
        let secret: CreateRequest.Secret
        do { secret = try JSONDecoder().decode(CreateRequest.self, from: body).secret } catch {
            return Reply.error(.badRequest, Self.describe(error))
        }
        do {
            let (created, updated) = try await store.set(scope, name: secret.name, value: secret.value)
            return Reply.json(created ? .created : .ok, "{\"secret\":\(Self.secretJSON(name: secret.name, scope: scope, updated: updated))}")
        } catch {
            return Reply.failure(error)
        }
    }

    private func delete(_ name: String, scope: Scope) async -> HTTPResponse {
        do {
            guard try await store.delete(scope, name: name) else {
                return Reply.error(.notFound, "no secret named '\(name)' in the \(scope) scope")
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

    /// The scope named by the query: `project`/`pipeline` or Mage's `project_uuid`/`pipeline_uuid`.
    static func scope(of request: HTTPRequest) throws(VaultError) -> Scope {
        func value(_ names: String...) -> String? {
            request.query.first { names.contains($0.name) }.map(\.value)
        }
        let project = value("project", "project_uuid"), pipeline = value("pipeline", "pipeline_uuid")
        if project == nil, pipeline != nil { throw .invalidScope("a pipeline scope needs its project: add project=… to the query") }
        return try Scope(project: project, pipeline: pipeline)
    }

    /// The request's path still percent-encoded, so that a name holding `%2F` is read as
    /// the name it is (and refused) rather than as another path.
    static func rawPath(of request: HTTPRequest) -> String {
        let target = request.target.rawValue
        return String(target[..<(target.firstIndex { $0 == "?" || $0 == "#" } ?? target.endIndex)])
    }

    private enum Body {
        case read(Data)
        case refused(HTTPResponse)
    }

    /// The request body, read up to `maximumBodyBytes` and no further.
    private static func readBody(_ request: HTTPRequest) async -> Body {
        let tooLarge = Reply.error(.payloadTooLarge, "the body is larger than \(maximumBodyBytes >> 20) MiB (values are at most 1 MiB)")
        if let count = request.bodySequence.count, count > maximumBodyBytes { return .refused(tooLarge) }
        var body = Data()
        do {
            for try await chunk in request.bodySequence {
                body.append(chunk)
                if body.count > maximumBodyBytes { return .refused(tooLarge) }
            }
        } catch {
            return .refused(Reply.error(.badRequest, "the body could not be read"))
        }
        return .read(body)
    }

    private static func queryEscaped(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    // MARK: JSON

    static func secretJSON(name: String, scope: Scope, updated: Timestamp?) -> String {
        var fields = ["\"name\":\(JSONText.quoted(name))"] + scopeFields(scope)
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

/// Responses, with the headers every one of them carries.
enum Reply {
    /// No caching (names are private), no sniffing, no framing, no referrer.
    static func headers(contentType: String, policy: String = "default-src 'none'; frame-ancestors 'none'") -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers[.contentType] = contentType
        headers[.cacheControl] = "no-store"
        headers[HTTPHeader("X-Content-Type-Options")] = "nosniff"
        headers[HTTPHeader("X-Frame-Options")] = "DENY"
        headers[HTTPHeader("Referrer-Policy")] = "no-referrer"
        headers[HTTPHeader("Cross-Origin-Resource-Policy")] = "same-origin"
        headers[HTTPHeader("Content-Security-Policy")] = policy
        return headers
    }

    static func json(_ status: HTTPStatusCode, _ body: String) -> HTTPResponse {
        HTTPResponse(statusCode: status, headers: headers(contentType: "application/json; charset=utf-8"), body: Data((body + "\n").utf8))
    }

    static func error(_ status: HTTPStatusCode, _ message: String) -> HTTPResponse {
        json(status, "{\"error\":{\"code\":\(status.code),\"message\":\(JSONText.quoted(message))}}")
    }

    static func failure(_ error: VaultError) -> HTTPResponse {
        let status: HTTPStatusCode =
            switch error.kind {
            case .usage: .badRequest
            case .notFound: .notFound
            case .wrongKey, .damaged, .permission, .io: .internalServerError
            }
        return Reply.error(status, error.description)
    }

    static func methodNotAllowed(_ allowed: String) -> HTTPResponse {
        var reply = error(.methodNotAllowed, "this route takes \(allowed)")
        reply.headers[HTTPHeader("Allow")] = allowed
        return reply
    }

    static func page(_ status: HTTPStatusCode, _ html: String, nonce: String? = nil) -> HTTPResponse {
        let policy =
            nonce.map {
                "default-src 'none'; script-src 'nonce-\($0)'; style-src 'nonce-\($0)'; connect-src 'self'; img-src 'self' data:; "
                    + "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
            } ?? "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
        return HTTPResponse(statusCode: status, headers: headers(contentType: "text/html; charset=utf-8", policy: policy), body: Data(html.utf8))
    }

    static func redirect(to location: String, cookie: String) -> HTTPResponse {
        var headers = headers(contentType: "text/plain; charset=utf-8")
        headers[.location] = location
        headers[.setCookie] = cookie
        return HTTPResponse(statusCode: .seeOther, headers: headers, body: Data("Signed in; continue at \(location)\n".utf8))
    }
}
