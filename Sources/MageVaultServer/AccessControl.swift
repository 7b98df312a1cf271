import MageVault

/// Who may use a running `serve`, and how a browser proves it.
///
/// - The URL `serve` prints carries `token`. The first visit with it trades it for a
///   session cookie (`HttpOnly`, `SameSite=Strict`, named after the port because cookies
///   are not scoped by port) and redirects to the same page without the token, so it
///   does not stay in the address bar.
/// - Scripts send the token as `Authorization: Bearer <token>`.
/// - Requests that change the vault and come with the cookie must also carry the page's
///   CSRF token in `X-CSRF-Token` (a header another site cannot add without a CORS
///   preflight, which this server never grants), and any `Origin` or `Sec-Fetch-Site` a
///   browser sends must say the request came from this page.
/// - The `Host` header must name this server as it was addressed (127.0.0.1, localhost or
///   ::1 at its port), which defeats DNS-rebinding pages; `--allow-remote` lifts that check.
struct AccessControl: Sendable {
    /// The token in the printed URL, also accepted as a bearer token.
    let token: AccessToken
    /// The session cookie's value.
    let session: AccessToken
    /// The CSRF token the page embeds and sends back on writes.
    let csrf: AccessToken
    /// The session cookie's name.
    let cookieName: String
    /// `Host` header values accepted, lowercased; nil accepts any (remote listening).
    let hosts: Set<String>?
    /// `Origin` header values accepted for writes, lowercased; nil accepts the origins that
    /// match the request's own Host (remote listening).
    let origins: Set<String>?

    init(address: ListenAddress, port: UInt16) {
        token = AccessToken.random()
        session = AccessToken.random()
        csrf = AccessToken.random()
        cookieName = "mage_vault_\(port)"
        if address.isLoopback {
            var names = [ListenAddress.authority(host: address.host, port: port)]
            if !address.isIPv6 { names.append("localhost:\(port)") }
            if address.host == "127.0.0.1" || address.host == "::1" {
                names.append(ListenAddress.authority(host: address.host == "::1" ? "127.0.0.1" : "::1", port: port))
            }
            hosts = Set(names)
            origins = Set(names.map { "http://" + $0 })
        } else {
            hosts = nil
            origins = nil
        }
    }

    /// How a request proved who it is.
    enum Credential: Equatable {
        /// `Authorization: Bearer <token>`.
        case bearer
        /// The session cookie.
        case cookie
        /// `?token=` in the URL.
        case urlToken
    }

    /// A reason to refuse a request whose Host header does not name this server, or nil.
    func hostProblem(_ request: WebRequest) -> String? {
        guard let hosts else { return nil }
        guard let host = request.header("host")?.lowercased() else { return "the request has no Host header" }
        return hosts.contains(host) ? nil : "this server does not answer to Host '\(host)'"
    }

    /// The credential the request carries, or nil when it carries none that is valid.
    func credential(of request: WebRequest) -> Credential? {
        if let authorization = request.header("authorization") {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            if parts.count == 2, ["bearer", "token"].contains(parts[0].lowercased()), token.matches(parts[1]) {
                return .bearer
            }
        }
        if let cookie = cookieValue(in: request), session.matches(cookie) { return .cookie }
        if let given = request.query("token"), token.matches(given) { return .urlToken }
        return nil
    }

    /// A reason to refuse a request that changes the vault as coming from another site, or nil.
    func crossSiteProblem(_ request: WebRequest, credential: Credential) -> String? {
        if let origin = request.header("origin")?.lowercased() {
            let expected = origins ?? request.header("host").map { ["http://" + $0.lowercased()] } ?? []
            guard expected.contains(origin) else { return "cross-site request refused (Origin \(origin))" }
        }
        if let site = request.header("sec-fetch-site")?.lowercased(), site != "same-origin", site != "none" {
            return "cross-site request refused (Sec-Fetch-Site \(site))"
        }
        if credential == .cookie {
            guard let given = request.header("x-csrf-token"), csrf.matches(given) else {
                return "missing or wrong X-CSRF-Token header (reload the page)"
            }
        }
        return nil
    }

    /// The `Set-Cookie` value that starts a browser session.
    var sessionCookie: String {
        "\(cookieName)=\(session.text); Path=/; HttpOnly; SameSite=Strict"
    }

    private func cookieValue(in request: WebRequest) -> Substring? {
        for header in request.headers(named: "cookie") {
            for pair in header.split(separator: ";") {
                let trimmed = pair.drop { $0 == " " }
                guard let equals = trimmed.firstIndex(of: "=") else { continue }
                if trimmed[..<equals] == cookieName { return trimmed[trimmed.index(after: equals)...] }
            }
        }
        return nil
    }
}
