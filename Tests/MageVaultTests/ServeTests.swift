import Foundation
import Testing

@testable import MageVault
@testable import MageVaultServer

/// `mage-vault serve`, over real HTTP on loopback: every route, bad input, missing or wrong
/// credentials, cross-site and misaddressed requests, scopes, concurrent writers, Ctrl-C.
@Suite("serve: the Secrets page and its JSON API")
struct ServeTests: ToolSuite {
    let harness = ToolHarness()

    func start(_ arguments: String...) throws -> ServerProcess {
        try ServerProcess(["--data-dir", data] + arguments)
    }

    /// The session cookie (`name=value`) a first visit with the token gets, and the page's CSRF token.
    func signIn(_ server: ServerProcess) throws -> (cookie: String, csrf: String) {
        let visit = try server.client.send("GET", "/?token=\(server.token)")
        let setCookie = try #require(visit.header("Set-Cookie"))
        let cookie = String(setCookie.prefix { $0 != ";" })
        let page = try server.client.send("GET", "/", headers: [("Cookie", cookie)])
        let marker = try #require(page.body.range(of: "name=\"csrf-token\" content=\""))
        return (cookie, String(page.body[marker.upperBound...].prefix { $0 != "\"" }))
    }

    /// Every file under the data dir with its bytes: what "the vault is unchanged" compares.
    func snapshot() throws -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        let enumerator = FileManager.default.enumerator(atPath: data)
        while let path = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: data + "/" + path, isDirectory: &isDirectory)
            files[path] = isDirectory.boolValue ? [] : try contents(data + "/" + path)
        }
        return files
    }

    @Test("The URL is on 127.0.0.1 with a 64-hex-digit token; Ctrl-C stops the server cleanly")
    func startsAndStops() throws {
        let server = try start()
        #expect(server.url.hasPrefix("http://127.0.0.1:\(server.port)/?token="))
        #expect(server.token.count == 64)
        #expect(server.banner.contains("Ctrl-C"))
        #expect(try server.client.bearer(server.token, "GET", "/api/secrets").status == 200)
        let (status, error) = server.interrupt()
        #expect(status == 0)
        #expect(error.contains("stopped"))
        #expect(throws: ServeTestError.self) { try server.client.send("GET", "/api/secrets") }
        // A second server gets another token.
        let again = try start()
        #expect(again.token != server.token)
    }

    @Test("Without the token, or with a wrong one, nothing is served and nothing changes")
    func tokenIsRequired() throws {
        #expect(try tool("set", "db_password", input: "made-up-password").status == 0)
        let server = try start()
        let client = server.client
        let before = try snapshot()
        let wrong = String(repeating: "0", count: 64)
        for reply in [
            try client.send("GET", "/api/secrets"),
            try client.bearer(wrong, "GET", "/api/secrets"),
            try client.send("GET", "/api/secrets?token=\(wrong)"),
            try client.send("GET", "/api/secrets", headers: [("Cookie", "mage_vault_\(server.port)=\(wrong)")]),
            try client.send("POST", "/api/secrets", headers: [("Content-Type", "application/json")], body: Array(#"{"secret":{"name":"x","value":"y"}}"#.utf8)),
            // The token in the URL reads, but never writes (a link must not change anything).
            try client.send("POST", "/api/secrets?token=\(server.token)", headers: [("Content-Type", "application/json")], body: Array(#"{"secret":{"name":"x","value":"y"}}"#.utf8)),
            try client.send("DELETE", "/api/secrets/db_password"),
        ] {
            #expect(reply.status == 401)
            #expect(reply.errorMessage?.contains("token") == true)
            #expect(!reply.body.contains("db_password"))
        }
        let page = try client.send("GET", "/")
        #expect(page.status == 401)
        #expect(page.body.contains("token"))
        #expect(!page.body.contains("db_password"))
        #expect(try client.send("GET", "/?token=\(wrong)").status == 401)
        #expect(try snapshot() == before)
    }

    @Test("The first visit trades the token for an HttpOnly, SameSite=Strict cookie and drops it from the URL")
    func tokenBecomesCookie() throws {
        let server = try start()
        let visit = try server.client.send("GET", "/?token=\(server.token)&project=etl")
        #expect(visit.status == 303)
        #expect(visit.header("Location") == "/?project=etl")
        let cookie = try #require(visit.header("Set-Cookie"))
        #expect(cookie.hasPrefix("mage_vault_\(server.port)="))
        #expect(cookie.contains("HttpOnly"))
        #expect(cookie.contains("SameSite=Strict"))
        #expect(!cookie.contains(server.token))

        let (session, csrf) = try signIn(server)
        let page = try server.client.send("GET", "/", headers: [("Cookie", session)])
        #expect(page.status == 200)
        #expect(page.header("Content-Type")?.hasPrefix("text/html") == true)
        #expect(page.header("Cache-Control") == "no-store")
        #expect(page.header("X-Frame-Options") == "DENY")
        let policy = try #require(page.header("Content-Security-Policy"))
        #expect(policy.contains("default-src 'none'"))
        #expect(policy.contains("connect-src 'self'"))
        #expect(csrf.count == 64)
        #expect(!page.body.contains(server.token))
        // Nothing external: no URL in the page but its own API's relative paths.
        #expect(!page.body.contains("http://") && !page.body.contains("https://") && !page.body.contains("src=\""))
        #expect(page.body.contains(data))  // which data dir it serves
        #expect(try server.client.send("GET", "/api/secrets", headers: [("Cookie", session)]).status == 200)
        // Opening the printed URL again, already signed in, still takes the token out of the URL.
        #expect(try server.client.send("GET", "/?token=\(server.token)", headers: [("Cookie", session)]).status == 303)
    }

    @Test("POST creates (201) then replaces (200), GET lists names and never values, DELETE removes (then 404)")
    func everyRoute() throws {
        let server = try start()
        let client = server.client, token = server.token
        let created = try client.bearer(token, "POST", "/api/secrets", json: #"{"secret": {"name": "db_password", "value": "made-up-value-1"}}"#)
        #expect(created.status == 201, "\(created.body)")
        let secret = try #require(created.json?["secret"] as? [String: Any])
        #expect(secret["name"] as? String == "db_password")
        #expect(secret["scope"] as? String == "global")
        #expect(secret["value"] == nil)
        #expect(!created.body.contains("made-up-value-1"))
        #expect(try tool("get", "db_password").text == "made-up-value-1")

        let replaced = try client.bearer(token, "POST", "/api/secrets", json: #"{"secret": {"name": "db_password", "value": "made-up-value-2"}}"#)
        #expect(replaced.status == 200)
        #expect(try tool("get", "db_password").text == "made-up-value-2")
        #expect(try tool("set", "api_key", input: "made-up-cli-value").status == 0)  // written by the CLI meanwhile

        let listed = try client.bearer(token, "GET", "/api/secrets")
        #expect(listed.status == 200)
        let secrets = try #require(listed.json?["secrets"] as? [[String: Any]])
        #expect(secrets.compactMap { $0["name"] as? String } == ["api_key", "db_password"])
        #expect(secrets.allSatisfy { $0["updated_at"] is String && $0["scope"] as? String == "global" && $0["value"] == nil })
        #expect(!listed.body.contains("made-up"))
        let environment = try #require(listed.json?["environment"] as? [String: Any])
        #expect(environment["uuid"] as? String == (try String(contentsOfFile: data + "/secrets/uuid", encoding: .utf8)))
        #expect(environment["data_dir"] as? String == data)

        let deleted = try client.bearer(token, "DELETE", "/api/secrets/db_password")
        #expect(deleted.status == 200)
        #expect((deleted.json?["secret"] as? [String: Any])?["name"] as? String == "db_password")
        #expect(try tool("get", "db_password").status == 1)
        let again = try client.bearer(token, "DELETE", "/api/secrets/db_password")
        #expect(again.status == 404)
        #expect(again.errorMessage?.contains("db_password") == true)

        #expect(try client.bearer(token, "PUT", "/api/secrets").status == 405)
        #expect(try client.bearer(token, "GET", "/api/secrets/api_key").status == 405)
        #expect(try client.bearer(token, "GET", "/api/other").status == 404)
        // The page itself never carries a value.
        let (session, _) = try signIn(server)
        #expect(!(try client.send("GET", "/", headers: [("Cookie", session)]).body.contains("made-up")))
    }

    @Test("Bad input gets 400 (or 413, 415) with a JSON error that says what is wrong; the vault is unchanged")
    func badInputChangesNothing() throws {
        #expect(try tool("set", "existing", input: "made-up-existing").status == 0)
        let server = try start()
        let client = server.client, token = server.token
        let before = try snapshot()
        let longName = String(repeating: "n", count: 256)
        let cases: [(json: String, status: Int, message: String)] = [
            ("not json", 400, "not valid JSON"),
            (#"{"name": "a", "value": "made-up-b"}"#, 400, "missing field secret"),
            (#"{"secret": {"value": "made-up-b"}}"#, 400, "missing field secret.name"),
            (#"{"secret": {"name": "a"}}"#, 400, "missing field secret.value"),
            (#"{"secret": {"name": "a", "value": 42}}"#, 400, "secret.value must be a string"),
            (#"{"secret": {"name": null, "value": "made-up-b"}}"#, 400, "secret.name must be a string"),
            (#"{"secret": "a"}"#, 400, "secret must be an object"),
            (#"{"secret": {"name": "", "value": "made-up-b"}}"#, 400, "empty"),
            (#"{"secret": {"name": "tab\there", "value": "made-up-b"}}"#, 400, "control"),
            (#"{"secret": {"name": "\#(longName)", "value": "made-up-b"}}"#, 400, "255"),
            (#"{"secret": {"name": "big", "value": "\#(String(repeating: "v", count: (1 << 20) + 1))"}}"#, 400, "1 MiB"),
        ]
        for item in cases {
            let reply = try client.bearer(token, "POST", "/api/secrets", json: item.json)
            #expect(reply.status == item.status, "\(item.json.prefix(60)): \(reply.body)")
            let message = try #require(reply.errorMessage, "\(reply.body)")
            #expect(message.contains(item.message), "\(message)")
            #expect(!message.contains("made-up"))
        }
        let plain = try client.send("POST", "/api/secrets", headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "text/plain")], body: Array("x".utf8))
        #expect(plain.status == 415)
        let huge = try client.bearer(token, "POST", "/api/secrets", json: String(repeating: " ", count: 9 << 20))
        #expect(huge.status == 413)
        #expect(huge.errorMessage?.contains("MiB") == true)
        for target in ["/api/secrets?pipeline=p", "/api/secrets?project=..", "/api/secrets?project=a%2Fb"] {
            let reply = try client.bearer(token, "POST", target, json: #"{"secret": {"name": "a", "value": "made-up-b"}}"#)
            #expect(reply.status == 400, "\(target)")
            #expect(reply.errorMessage != nil)
            #expect(try client.bearer(token, "GET", target).status == 400)
        }
        let slash = try client.bearer(token, "DELETE", "/api/secrets/a%2Fb")
        #expect(slash.status == 404)  // a name with '/' is valid (Mage's), and there is none
        #expect(slash.errorMessage?.contains("a/b") == true)
        #expect(try client.bearer(token, "DELETE", "/api/secrets/nothing-here").status == 404)
        #expect(try client.bearer(token, "DELETE", "/api/secrets/existing?project=never-made").status == 404)
        #expect(try snapshot() == before)
        #expect(try tool("get", "existing").text == "made-up-existing")
    }

    @Test("A body that gives a field twice gets 400 naming the field; the vault is unchanged")
    func repeatedFieldsRefused() throws {
        #expect(try tool("set", "existing", input: "made-up-existing").status == 0)
        let server = try start()
        let before = try snapshot()
        let cases = [
            (#"{"secret": {"name": "twice", "value": "made-up-first", "value": "made-up-last"}}"#, "secret.value"),
            (#"{"secret": {"name": "twice", "name": "other", "value": "made-up-v"}}"#, "secret.name"),
            (#"{"secret": {"name": "twice", "value": "made-up-v"}, "secret": {"name": "other", "value": "made-up-w"}}"#, "secret"),
        ]
        for (json, field) in cases {
            let reply = try server.client.bearer(server.token, "POST", "/api/secrets", json: json)
            #expect(reply.status == 400, "\(field)")
            let message = reply.errorMessage ?? ""
            #expect(message.contains("gives \(field) more than once"), "\(message)")
            #expect(!message.contains("made-up"))
        }
        let unchanged = try snapshot() == before
        #expect(unchanged, "the vault changed")
    }

    @Test("Idle connections and slow request heads are closed after the idle timeout; the connection cap holds; real requests get through")
    func idleConnectionsAreBounded() throws {
        let server = try start("--idle-timeout", "1", "--max-connections", "40")
        let client = server.client, token = server.token
        let idle = try (0..<32).map { _ in try LoopbackSocket(port: server.port) }
        let slow = try LoopbackSocket(port: server.port)
        slow.send("GET /api/secrets HTTP/1.1\r\nHost: 127.0.0.1\r\n")  // and never the rest of the head
        #expect(try client.bearer(token, "GET", "/api/secrets").status == 200)
        #expect(idle[0].closedByPeer(within: 5), "an idle connection was kept open")
        #expect(slow.closedByPeer(within: 5), "a connection that never finished its request head was kept open")
        #expect(idle.allSatisfy { $0.closedByPeer(within: 2) })
        // Beyond the cap (NIO accepts a few per wake-up, so fill past it), one more connection
        // waits, unaccepted, until the idle ones are closed.
        let filling = try (0..<48).map { _ in try LoopbackSocket(port: server.port) }
        let started = Date()
        #expect(try client.bearer(token, "GET", "/api/secrets").status == 200)
        #expect(Date().timeIntervalSince(started) > 0.5, "a connection beyond the cap was served at once: no cap")
        #expect(filling.allSatisfy { $0.closedByPeer(within: 4) })
    }

    @Test("A refused request's body is not read: 401 and the connection closes, however slowly it trickles; real requests get through")
    func refusedBodiesAreNotRead() throws {
        // Fewer connections than slow clients: each one held open would keep a real request out.
        let server = try start("--max-connections", "12")
        let port = server.port
        let slow = try (0..<20).map { _ in try LoopbackSocket(port: port) }
        for socket in slow {
            socket.send("POST /api/secrets HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n")
        }
        // One byte of body every 200 ms on each, without a token, until the test is done.
        let descriptors = slow.map(\.fd)
        let stop = DispatchSemaphore(value: 0), stopped = DispatchSemaphore(value: 0)
        Thread {
            while stop.wait(timeout: .now() + 0.2) == .timedOut {
                for fd in descriptors { _ = Glibc.send(fd, "{", 1, Int32(MSG_NOSIGNAL)) }
            }
            stopped.signal()
        }.start()
        defer {
            stop.signal()
            stopped.wait()
        }
        let real = try HTTPTestClient(port: port, timeout: 8).bearer(server.token, "GET", "/api/secrets")
        #expect(real.status == 200)
        for (index, socket) in slow.enumerated() {
            let (bytes, closed) = socket.readUntilClosed(within: 6)
            #expect(try HTTPTestClient.parse(bytes).status == 401, "connection \(index)")
            #expect(closed, "connection \(index) was kept open to read a refused request's body")
        }
    }

    @Test("A request must arrive whole within --request-timeout of its first byte: a head or a body trickled slower is cut off")
    func slowRequestsAreCutOff() throws {
        let server = try start("--request-timeout", "2")  // the idle timeout stays 30 s
        let port = server.port, token = server.token
        #expect(try server.client.bearer(token, "GET", "/api/secrets").status == 200)
        let head = Array("GET /api/secrets HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nAuthorization: Bearer \(token)\r\n\r\n".utf8)
        let slowHead = try LoopbackSocket(port: port), slowBody = try LoopbackSocket(port: port)
        slowBody.send(
            "POST /api/secrets HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nAuthorization: Bearer \(token)\r\n"
                + "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
        let started = Date()
        var headClosed = false, bodyClosed = false
        // A byte every 200 ms: the head would take 20 s, the body 200 s.
        for byte in head where !(headClosed && bodyClosed) && Date().timeIntervalSince(started) < 8 {
            if !headClosed { slowHead.send(String(UnicodeScalar(byte))) }
            if !bodyClosed { slowBody.send(" ") }
            headClosed = headClosed || slowHead.closedByPeer(within: 0.1)
            bodyClosed = bodyClosed || slowBody.closedByPeer(within: 0.1)
        }
        #expect(headClosed, "a request head trickled for 8 s was still being read")
        #expect(bodyClosed, "a request body trickled for 8 s was still being read")
        #expect(try server.client.bearer(token, "GET", "/api/secrets").status == 200)
    }

    @Test("Cross-site writes are refused: no CSRF token, a foreign Origin or Sec-Fetch-Site, a foreign Host")
    func crossSiteIsRefused() throws {
        #expect(try tool("set", "keep_me", input: "made-up-keep").status == 0)
        let server = try start()
        let client = server.client
        let (cookie, csrf) = try signIn(server)
        let body = Array(#"{"secret": {"name": "planted", "value": "made-up-planted"}}"#.utf8)
        let before = try snapshot()
        let json = ("Content-Type", "application/json")
        let attempts: [[(String, String)]] = [
            [("Cookie", cookie), json],  // what a cross-site form or fetch would send at best
            [("Cookie", cookie), json, ("X-CSRF-Token", String(repeating: "1", count: 64))],
            [("Cookie", cookie), json, ("X-CSRF-Token", csrf), ("Origin", "http://evil.example")],
            [("Cookie", cookie), json, ("X-CSRF-Token", csrf), ("Origin", "null")],
            [("Cookie", cookie), json, ("X-CSRF-Token", csrf), ("Sec-Fetch-Site", "cross-site")],
            [("Cookie", cookie), json, ("X-CSRF-Token", csrf), ("Sec-Fetch-Site", "same-site")],
            [("Authorization", "Bearer \(server.token)"), json, ("Origin", "http://evil.example")],
        ]
        for headers in attempts {
            let post = try client.send("POST", "/api/secrets", headers: headers, body: body)
            #expect(post.status == 403, "\(headers.map(\.0))")
            #expect(post.errorMessage != nil)
            let delete = try client.send("DELETE", "/api/secrets/keep_me", headers: headers)
            #expect(delete.status == 403)
        }
        // A DNS-rebinding page reaches 127.0.0.1 under its own name: refused whatever it carries.
        for host in ["evil.example", "evil.example:\(server.port)", "127.0.0.1:1"] {
            let reply = try client.send("GET", "/api/secrets", headers: [("Authorization", "Bearer \(server.token)")], host: host)
            #expect(reply.status == 403)
            #expect(!reply.body.contains("keep_me"))
        }
        #expect(try snapshot() == before)
        // The page's own request: cookie, CSRF token, its own Origin and same-origin fetch metadata.
        let own = try client.send(
            "POST", "/api/secrets",
            headers: [("Cookie", cookie), json, ("X-CSRF-Token", csrf), ("Origin", "http://127.0.0.1:\(server.port)"), ("Sec-Fetch-Site", "same-origin")],
            body: body)
        #expect(own.status == 201)
        let viaLocalhost = try client.send(
            "DELETE", "/api/secrets/planted",
            headers: [("Cookie", cookie), ("X-CSRF-Token", csrf), ("Origin", "http://localhost:\(server.port)")], host: "localhost:\(server.port)")
        #expect(viaLocalhost.status == 200)
    }

    @Test("Scope parameters read through pipeline → project → global and write to the scope named")
    func scopes() throws {
        #expect(try tool("set", "shared", input: "made-up-global").status == 0)
        let server = try start()
        let client = server.client, token = server.token
        let project = try client.bearer(token, "POST", "/api/secrets?project=etl", json: #"{"secret": {"name": "warehouse", "value": "made-up-w"}}"#)
        #expect(project.status == 201)
        #expect((project.json?["secret"] as? [String: Any])?["project_uuid"] as? String == "etl")
        let pipeline = try client.bearer(
            token, "POST", "/api/secrets?project_uuid=etl&pipeline_uuid=load", json: #"{"secret": {"name": "shared", "value": "made-up-p"}}"#)
        #expect(pipeline.status == 201)
        #expect(try run(["get", "shared", "--data-dir", data, "--project", "etl", "--pipeline", "load"]).text == "made-up-p")
        #expect(try run(["get", "warehouse", "--data-dir", data, "--project", "etl"]).text == "made-up-w")

        let seen = try client.bearer(token, "GET", "/api/secrets?project=etl&pipeline=load")
        let secrets = try #require(seen.json?["secrets"] as? [[String: Any]])
        let scopes = Dictionary(uniqueKeysWithValues: secrets.map { ($0["name"] as! String, $0["scope"] as! String) })
        #expect(scopes == ["shared": "pipeline", "warehouse": "project"])
        let global = try #require(try client.bearer(token, "GET", "/api/secrets").json?["secrets"] as? [[String: Any]])
        #expect(global.map { $0["name"] as? String } == ["shared"])
        // A name the scope inherits is not the scope's to delete.
        #expect(try client.bearer(token, "DELETE", "/api/secrets/warehouse?project=etl&pipeline=load").status == 404)
        #expect(try client.bearer(token, "DELETE", "/api/secrets/warehouse?project=etl").status == 200)
        // A scope nobody has written yet lists its parents' secrets and creates nothing.
        let fresh = try client.bearer(token, "GET", "/api/secrets?project=new")
        #expect(fresh.status == 200)
        #expect(((fresh.json?["environment"] as? [String: Any])?["uuid"]) is NSNull)
        #expect(!FileManager.default.fileExists(atPath: data + "/secrets/projects/new"))
    }

    @Test("A data dir whose log was deleted (uuid and key left) lists no secrets and keeps serving; the next POST creates the log")
    func scopeWithoutLog() throws {
        #expect(try tool("set", "warehouse", "--project", "etl", input: "made-up-w").status == 0)
        try FileManager.default.removeItem(atPath: log)
        let server = try start()
        let client = server.client, token = server.token
        for path in ["/api/secrets", "/api/secrets?project=etl", "/api/secrets?project=etl&pipeline=load"] {
            let listed = try client.bearer(token, "GET", path)
            #expect(listed.status == 200, "\(path)")
            #expect((listed.json?["secrets"] as? [[String: Any]])?.isEmpty == true, "\(path)")
        }
        let created = try client.bearer(token, "POST", "/api/secrets?project=etl", json: #"{"secret": {"name": "warehouse", "value": "made-up-2"}}"#)
        #expect(created.status == 201)
        #expect(try client.bearer(token, "GET", "/api/secrets").status == 200)  // the server is still there
        #expect(try run(["get", "warehouse", "--data-dir", data, "--project", "etl"]).text == "made-up-2")
    }

    @Test("Writes from the page's API and from the command line at the same moment lose nothing")
    func concurrentWriters() async throws {
        let server = try start()
        let token = server.token, port = server.port, dataDir = data
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<16 {
                group.addTask {
                    let reply = try HTTPTestClient(port: port).bearer(
                        token, "POST", "/api/secrets", json: #"{"secret": {"name": "web_\#(index)", "value": "made-up-web-\#(index)"}}"#)
                    return reply.status == 201
                }
                group.addTask {
                    try run(["set", "cli_\(index)", "--data-dir", dataDir], input: Array("made-up-cli-\(index)".utf8)).status == 0
                }
            }
            for try await succeeded in group { #expect(succeeded) }
        }
        for index in 0..<16 {
            #expect(try tool("get", "web_\(index)").text == "made-up-web-\(index)")
            #expect(try tool("get", "cli_\(index)").text == "made-up-cli-\(index)")
        }
        #expect(try tool("verify").status == 0)
    }

    @Test("Addresses other machines can reach are refused without --allow-remote, and warned about with it")
    func remoteNeedsAFlag() throws {
        for host in ["0.0.0.0", "::", "192.0.2.10"] {
            let refused = try tool("serve", "--host", host)
            #expect(refused.status == 2)
            #expect(refused.error.contains("--allow-remote"))
        }
        let invalid = try tool("serve", "--host", "example.com")
        #expect(invalid.status == 2)
        #expect(invalid.error.contains("not an IP address"))
        #expect(throws: ServeError.self) { try ListenAddress(host: "10.1.2.3", port: 1, allowRemote: false) }
        #expect(try ListenAddress(host: "localhost", port: 1, allowRemote: false).host == "127.0.0.1")
        #expect(try ListenAddress(host: "::1", port: 1, allowRemote: false).isLoopback)
        #expect(try !ListenAddress(host: "0.0.0.0", port: 1, allowRemote: true).isLoopback)

        let server = try start("--host", "0.0.0.0", "--allow-remote")
        #expect(try server.client.bearer(server.token, "GET", "/api/secrets", headers: []).status == 200)
        let (status, error) = server.interrupt()
        #expect(status == 0)
        #expect(error.contains("WARNING"))
        #expect(error.contains("plain HTTP"))
    }

    @Test("Access tokens are 256 random bits in hex, and compare equal only to themselves")
    func accessTokens() {
        let first = AccessToken.random(), second = AccessToken.random()
        #expect(first.text.count == 64)
        #expect(first.text.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(first.text != second.text)
        #expect(first.matches(first.text))
        #expect(!first.matches(second.text))
        #expect(!first.matches(first.text.dropLast()))
        #expect(!first.matches(""))
    }
}
