import Foundation
import Testing

@testable import MageVault

@Suite("Mage's dialect: mage_secret_var's full signature, --missing none")
struct MageTemplateDialectTests {
    let global = ["secret1": "made-up global", "gcp": #"{"nested": {"a": {"b": "made-up deep"}}}"#]
    let scoped: [Scope: [String: String]] = [
        .project("sales"): ["secret1": "made-up project", "gcp": #"{"nested": {"a": {"b": "made-up project deep"}}}"#],
        .pipeline(project: "sales", pipeline: "daily"): ["db": "made-up daily"],
    ]

    func render(_ text: String, missing: MissingPolicy = .fail) throws -> ConfigTemplate.Rendering {
        try ConfigTemplate(text: text).render(
            missing: missing, secret: { global[$0] }, scopedSecret: { scoped[$1]?[$0] ?? ($1 == .global ? global[$0] : nil) },
            variable: { $0 == "SET" ? "made-up env" : nil })
    }

    @Test("Every form of Mage's signature reads exactly the scope it names", arguments: [
        ("mage_secret_var('secret1', 'project', project_uuid='sales')", "made-up project"),
        ("mage_secret_var('secret1', entity='project', project_uuid='sales')", "made-up project"),
        ("mage_secret_var(\"secret1\", entity=\"project\", project_uuid=\"sales\")", "made-up project"),
        ("mage_secret_var('db', entity='pipeline', project_uuid='sales', pipeline_uuid='daily')", "made-up daily"),
        ("mage_secret_var('db', 'pipeline', 'daily', 'sales')", "made-up daily"),  // Mage's positional order: pipeline_uuid, then project_uuid
        ("mage_secret_var('db', 'pipeline', pipeline_uuid='daily', project_uuid='sales')", "made-up daily"),
        ("mage_secret_var('secret1', 'global')", "made-up global"),
        ("mage_secret_var( 'secret1' ,entity = 'global' )", "made-up global"),
        ("json_value(mage_secret_var('gcp'), 'nested.a.b')", "made-up deep"),
        ("json_value(mage_secret_var('gcp', 'project', project_uuid='sales'), 'nested.a.b')", "made-up project deep"),
    ])
    func signatures(expression: String, value: String) throws {
        let rendered = try render("x: \"{{ \(expression) }}\"\n")
        #expect(rendered.output == "x: \"\(value)\"\n")
        #expect(rendered.warnings.isEmpty)
    }

    @Test("A scoped read never falls back to a parent scope, as in Mage")
    func noFallback() throws {
        #expect(throws: TemplateError.missingSecret(name: "db", line: 1)) {
            try render("{{ mage_secret_var('db', 'project', project_uuid='sales') }}")
        }
    }

    @Test("A call whose scope cannot exist is refused, with or without --strict: left in the output it would be read as the value", arguments: [
        "mage_secret_var('x', 'project')",  // no project_uuid
        "mage_secret_var('x', 'pipeline', project_uuid='sales')",  // no pipeline_uuid
        "mage_secret_var('x', 'galaxy')",
        "mage_secret_var('x', 'project', project_uuid='..')",  // not a folder name
        "mage_secret_var('x', 'project', project_uuid='../x')",
    ])
    func impossibleScope(expression: String) throws {
        for strict in [false, true] {
            let error = #expect(throws: TemplateError.self) {
                try ConfigTemplate(text: "a: 1\nb: {{ \(expression) }}").render(
                    missing: .none, strict: strict, secret: { _ in "made-up" }, scopedSecret: { _, _ in "made-up" }, variable: { _ in nil })
            }
            guard case .invalidScope(_, line: 2)? = error else {
                Issue.record("\(expression), strict \(strict): \(String(describing: error))")
                continue
            }
        }
    }

    @Test("Malformed signatures are left as they are with a warning (or refused with --strict)", arguments: [
        "mage_secret_var('x', entity='project', 'sales')",  // positional after keyword: Python refuses it too
        "mage_secret_var('x', colour='blue')",
        "mage_secret_var('x', 'global', 'a', 'b', 'c')",
    ])
    func malformed(expression: String) throws {
        let rendered = try render("{{ \(expression) }}")
        #expect(rendered.output == "{{ \(expression) }}")
        #expect(rendered.warnings.count == 1)
        #expect(throws: TemplateError.self) {
            try ConfigTemplate(text: "{{ \(expression) }}").render(
                missing: .fail, strict: true, secret: { _ in nil }, scopedSecret: { _, _ in nil }, variable: { _ in nil })
        }
    }

    @Test("--missing none renders Mage's None and warns; fail stays the default; empty is --allow-missing")
    func missingPolicies() throws {
        let text = "a: {{ mage_secret_var('nope') }} b: {{ env_var('UNSET') }} c: {{ json_value(mage_secret_var('nope'), 'k') }} d: {{ mage_secret_var('nope', 'project', project_uuid='sales') }} e: {{ env_var('SET') }}"
        let none = try render(text, missing: .none)
        #expect(none.output == "a: None b: None c: None d: None e: made-up env")
        #expect(none.warnings.count == 4)
        #expect(none.warnings.allSatisfy { $0.contains("rendered as None") })
        #expect(try render(text, missing: .empty).output == "a:  b:  c:  d:  e: made-up env")
        #expect(throws: TemplateError.missingSecret(name: "nope", line: 1)) { try render(text) }
    }
}

@Suite("Mage's dialect: the API's scope fields, paging and record ids")
struct MageAPIDialectTests: ToolSuite {
    let harness = ToolHarness()

    @Test("POST with Mage's entity, project_uuid and pipeline_uuid stores in the scope the body names")
    func postStoresInTheNamedScope() throws {
        let server = try ServerProcess(["--data-dir", data])
        let client = server.client, token = server.token
        let pipeline = #"{"secret": {"name": "db", "value": "made-up daily", "entity": "pipeline", "project_uuid": "sales", "pipeline_uuid": "daily"}}"#
        let reply = try client.bearer(token, "POST", "/api/secrets", json: pipeline)
        #expect(reply.status == 201, "\(reply.body)")
        #expect(reply.body.contains(#""scope":"pipeline""#))
        let project = #"{"secret": {"name": "wh", "value": "made-up project", "entity": "project", "project_uuid": "sales"}}"#
        #expect(try client.bearer(token, "POST", "/api/secrets", json: project).status == 201)
        let global = #"{"secret": {"name": "g", "value": "", "entity": "global"}}"#  // Mage accepts empty values
        #expect(try client.bearer(token, "POST", "/api/secrets", json: global).status == 201)
        _ = server.interrupt()
        #expect(try tool("get", "db", "--project", "sales", "--pipeline", "daily").text == "made-up daily")
        #expect(try tool("get", "db").status == 1, "the pipeline's secret leaked into the global scope")
        #expect(try tool("get", "wh", "--project", "sales").text == "made-up project")
        #expect(try tool("get", "wh").status == 1)
        let empty = try tool("get", "g")
        #expect(empty.status == 0)
        #expect(empty.output.isEmpty)
    }

    @Test("set --allow-empty stores Mage's empty value; get prints nothing and exits 0; history and list see it")
    func emptyValueFromTheCommandLine() throws {
        #expect(try tool("set", "blank", input: "").status == 2)
        #expect(!FileManager.default.fileExists(atPath: data), "a refused set created files")
        #expect(try tool("set", "blank", "--allow-empty", input: "").status == 0)
        let got = try tool("get", "blank")
        #expect(got.status == 0 && got.output.isEmpty)
        #expect(try tool("list").text.contains("blank"))
        #expect(try tool("set", "blank", input: "made-up-now").status == 0)
        #expect(try tool("get", "blank", "--version", "1").output.isEmpty)
    }

    @Test("A body and a query naming different scopes, or an incomplete entity, are refused and nothing is written")
    func conflictingScopesAreRefused() throws {
        let server = try ServerProcess(["--data-dir", data])
        let client = server.client, token = server.token
        let cases = [
            ("/api/secrets?project=other", #"{"secret": {"name": "a", "value": "made-up", "entity": "project", "project_uuid": "sales"}}"#),
            ("/api/secrets", #"{"secret": {"name": "a", "value": "made-up", "entity": "pipeline", "project_uuid": "sales"}}"#),
            ("/api/secrets", #"{"secret": {"name": "a", "value": "made-up", "entity": "project"}}"#),
            ("/api/secrets", #"{"secret": {"name": "a", "value": "made-up", "entity": "galaxy"}}"#),
            ("/api/secrets", #"{"secret": {"name": "a", "value": "made-up", "entity": "project", "project_uuid": ".."}}"#),
        ]
        for (target, json) in cases {
            let reply = try client.bearer(token, "POST", target, json: json)
            #expect(reply.status == 400, "\(json): \(reply.body)")
            #expect(reply.errorMessage?.contains("made-up") == false)
        }
        _ = server.interrupt()
        #expect(!FileManager.default.fileExists(atPath: data + "/secrets"), "a refused request created files")
    }

    @Test("GET honours _limit and _offset with Mage's metadata; every record's id deletes it")
    func pagingAndIDs() throws {
        for index in 1...5 { #expect(try tool("set", "s\(index)", input: "made-up-\(index)").status == 0) }
        let server = try ServerProcess(["--data-dir", data])
        let client = server.client, token = server.token
        func page(_ query: String) throws -> (names: [String], ids: [String], count: Int, next: Bool) {
            let reply = try client.bearer(token, "GET", "/api/secrets" + query)
            let json = try #require(reply.json, "\(reply.body)")
            let secrets = try #require(json["secrets"] as? [[String: Any]])
            let metadata = try #require(json["metadata"] as? [String: Any])
            return (secrets.compactMap { $0["name"] as? String }, secrets.compactMap { $0["id"] as? String },
                    try #require(metadata["count"] as? Int), try #require(metadata["next"] as? Bool))
        }
        let all = try page("")
        #expect(all.names == ["s1", "s2", "s3", "s4", "s5"])
        #expect(all.count == 5 && !all.next)
        #expect(Set(all.ids).count == 5 && all.ids.allSatisfy { $0.count == 32 })
        let first = try page("?_limit=2")
        #expect(first.names == ["s1", "s2"] && first.count == 5 && first.next)
        let middle = try page("?_limit=2&_offset=2")
        #expect(middle.names == ["s3", "s4"] && middle.next)
        let last = try page("?_limit=2&_offset=4")
        #expect(last.names == ["s5"] && !last.next)
        #expect(try page("?_offset=9").names.isEmpty)
        #expect(try client.bearer(token, "GET", "/api/secrets?_limit=-1").status == 400)
        #expect(try client.bearer(token, "GET", "/api/secrets?_offset=x").status == 400)
        // The id stays the same when the value changes, and DELETE takes it as well as the name.
        #expect(try client.bearer(token, "POST", "/api/secrets", json: #"{"secret": {"name": "s3", "value": "made-up-new"}}"#).status == 200)
        #expect(try page("").ids == all.ids)
        let byID = try client.bearer(token, "DELETE", "/api/secrets/\(all.ids[2])")
        #expect(byID.status == 200, "\(byID.body)")
        #expect(byID.body.contains(#""name":"s3""#))
        #expect(try client.bearer(token, "DELETE", "/api/secrets/s4").status == 200)
        #expect(try client.bearer(token, "DELETE", "/api/secrets/\(all.ids[2])").status == 404)
        #expect(try page("").names == ["s1", "s2", "s5"])
        _ = server.interrupt()
    }
}
