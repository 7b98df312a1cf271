import Foundation
import Testing

@testable import MageVault

/// A faithful sample of the `default:` profile of Mage's generated `io_config.yaml`, with
/// several credentials moved into secrets, as a Mage user would write it.
let ioConfigTemplate = """
    version: 0.1.1
    default:
      # Default profile created for data IO access.
      # Add your credentials for the source you use, and delete the rest.
      # AWS
      AWS_ACCESS_KEY_ID: "{{ env_var('AWS_ACCESS_KEY_ID') }}"
      AWS_SECRET_ACCESS_KEY: "{{ mage_secret_var('aws_secret_access_key') }}"
      AWS_SESSION_TOKEN: session_token (Used to generate Redshift credentials)
      AWS_REGION: region
      # Azure
      AZURE_CLIENT_ID: "{{ env_var('AZURE_CLIENT_ID') }}"
      AZURE_CLIENT_SECRET: "{{ mage_secret_var("azure_client_secret") }}"
      AZURE_STORAGE_ACCOUNT_NAME: "{{ env_var('AZURE_STORAGE_ACCOUNT_NAME') }}"
      AZURE_TENANT_ID: "{{ env_var('AZURE_TENANT_ID') }}"
      # ClickHouse
      CLICKHOUSE_DATABASE: default
      CLICKHOUSE_HOST: host.docker.internal
      CLICKHOUSE_INTERFACE: http
      CLICKHOUSE_PASSWORD: null
      CLICKHOUSE_PORT: 8123
      CLICKHOUSE_USERNAME: null
      # Druid
      DRUID_HOST: hostname
      DRUID_PASSWORD: password
      DRUID_PATH: /druid/v2/sql/
      DRUID_PORT: 8082
      DRUID_SCHEME: http
      DRUID_USER: user
      # DuckDB
      DUCKDB_DATABASE: database
      DUCKDB_SCHEMA: main
      # Google
      GOOGLE_SERVICE_ACC_KEY:
        type: service_account
        project_id: "{{ json_value(mage_secret_var('gcp_service_account'), 'project_id') }}"
        private_key_id: "{{json_value( mage_secret_var( 'gcp_service_account' ) , "private_key_id" )}}"
        private_key: "-----BEGIN PRIVATE KEY-----\\nyour_private_key\\n-----END_PRIVATE_KEY"
        client_email: your_service_account_email
        auth_uri: "https://accounts.google.com/o/oauth2/auth"
        token_uri: "https://accounts.google.com/o/oauth2/token"
        auth_provider_x509_cert_url: "https://www.googleapis.com/oauth2/v1/certs"
        client_x509_cert_url: "https://www.googleapis.com/robot/v1/metadata/x509/your_service_account_email"
      GOOGLE_SERVICE_ACC_KEY_FILEPATH: "/path/to/your/service/account/key.json"
      GOOGLE_LOCATION: US # Optional
      # MongoDB
      MONGODB_CONNECTION_STRING: "mongodb://{{ mage_secret_var('mongo_user') }}:{{ mage_secret_var('mongo_password') }}@host:27017/db"
      # MSSQL
      MSSQL_DATABASE: database
      MSSQL_SCHEMA: schema
      MSSQL_DRIVER: "ODBC Driver 18 for SQL Server"
      MSSQL_HOST: host
      MSSQL_PASSWORD: password
      MSSQL_PORT: 1433
      MSSQL_USER: SA
      # MySQL
      MYSQL_DATABASE: database
      MYSQL_HOST: host
      MYSQL_PASSWORD: password
      MYSQL_PORT: 3306
      MYSQL_USER: root
      # PostgresSQL
      POSTGRES_CONNECT_TIMEOUT: 10
      POSTGRES_DBNAME: postgres
      POSTGRES_SCHEMA: public # Optional
      POSTGRES_USER: username
      POSTGRES_PASSWORD: "{{ mage_secret_var('postgres_password') }}"
      POSTGRES_HOST: hostname
      POSTGRES_PORT: 5432
      # Redshift
      REDSHIFT_SCHEMA: public # Optional
      REDSHIFT_DBNAME: redshift_db_name
      REDSHIFT_HOST: redshift_cluster_id.identifier.region.redshift.amazonaws.com
      REDSHIFT_PORT: 5439
      REDSHIFT_TEMP_CRED_USER: temp_username
      REDSHIFT_TEMP_CRED_PASSWORD: temp_password
      REDSHIFT_DBUSER: redshift_db_user
      REDSHIFT_CLUSTER_ID: redshift_cluster_id
      REDSHIFT_IAM_PROFILE: default
      # Snowflake
      SNOWFLAKE_USER: username
      SNOWFLAKE_PASSWORD: "{{mage_secret_var('snowflake_password')}}"
      SNOWFLAKE_ACCOUNT: account_id.region
      SNOWFLAKE_DEFAULT_WH: null                  # Optional default warehouse
      SNOWFLAKE_DEFAULT_DB: null                  # Optional default database
      SNOWFLAKE_DEFAULT_SCHEMA: null              # Optional default schema
      SNOWFLAKE_PRIVATE_KEY_PASSPHRASE: null      # Optional private key passphrase
      SNOWFLAKE_PRIVATE_KEY_PATH: null            # Optional private key path
      SNOWFLAKE_ROLE: null                        # Optional role name
      SNOWFLAKE_TIMEOUT: null                     # Optional timeout in seconds
      # Trino
      trino:
        catalog: postgresql                       # Change this to the catalog of your choice
        host: 127.0.0.1
        http_headers:
          X-Something: 'mage=power'
        http_scheme: http
        password: mage1337                        # Optional
        port: 8080
        schema: core_data
        session_properties:                       # Optional
          acc01.optimize_locality_enabled: false
          optimize_hash_generation: true
        source: trino-cli                         # Optional
        user: admin
        verify: /path/to/your/ca.crt              # Optional

    """

@Suite("Templates: mage_secret_var, env_var and json_value")
struct TemplateTests {
    let secrets = [
        "aws_secret_access_key": "made-up-aws-secret", "azure_client_secret": "made-up-azure",
        "gcp_service_account": #"{"type": "service_account", "project_id": "made-up-project", "private_key_id": "abc123", "nested": {"list": [1, {"deep": "found"}]}}"#,
        "mongo_user": "analyst", "mongo_password": "made-up-mongo", "postgres_password": "made-up-postgres",
        "snowflake_password": "made-up-snowflake",
    ]
    let variables = ["AWS_ACCESS_KEY_ID": "AKIAMADEUP", "AZURE_CLIENT_ID": "client", "AZURE_STORAGE_ACCOUNT_NAME": "store", "AZURE_TENANT_ID": "tenant"]

    func render(_ text: String, allowMissing: Bool = false, strict: Bool = false) throws -> ConfigTemplate.Rendering {
        try ConfigTemplate(text: text).render(allowMissing: allowMissing, strict: strict, secret: { secrets[$0] }, variable: { variables[$0] })
    }

    @Test("Mage's io_config.yaml renders with its secrets in place and every other byte unchanged")
    func ioConfig() throws {
        let rendered = try render(ioConfigTemplate)
        #expect(rendered.warnings.isEmpty)
        var expected = ioConfigTemplate
        for (expression, value) in [
            ("{{ env_var('AWS_ACCESS_KEY_ID') }}", "AKIAMADEUP"), ("{{ mage_secret_var('aws_secret_access_key') }}", "made-up-aws-secret"),
            ("{{ env_var('AZURE_CLIENT_ID') }}", "client"), (#"{{ mage_secret_var("azure_client_secret") }}"#, "made-up-azure"),
            ("{{ env_var('AZURE_STORAGE_ACCOUNT_NAME') }}", "store"), ("{{ env_var('AZURE_TENANT_ID') }}", "tenant"),
            ("{{ json_value(mage_secret_var('gcp_service_account'), 'project_id') }}", "made-up-project"),
            (#"{{json_value( mage_secret_var( 'gcp_service_account' ) , "private_key_id" )}}"#, "abc123"),
            ("{{ mage_secret_var('mongo_user') }}", "analyst"), ("{{ mage_secret_var('mongo_password') }}", "made-up-mongo"),
            ("{{ mage_secret_var('postgres_password') }}", "made-up-postgres"), ("{{mage_secret_var('snowflake_password')}}", "made-up-snowflake"),
        ] {
            expected = expected.replacingOccurrences(of: expression, with: value)
        }
        #expect(rendered.output == expected)
        #expect(rendered.output.contains(#"MONGODB_CONNECTION_STRING: "mongodb://analyst:made-up-mongo@host:27017/db""#))
        #expect(!rendered.output.contains("{{"))
    }

    @Test("A missing secret or unset variable names itself and its line; --allow-missing renders it empty")
    func missing() throws {
        #expect(throws: TemplateError.missingSecret(name: "nope", line: 2)) { try render("a: 1\nb: \"{{ mage_secret_var('nope') }}\"\n") }
        #expect(throws: TemplateError.unsetVariable(name: "UNSET", line: 1)) { try render("{{ env_var('UNSET') }}") }
        #expect(throws: TemplateError.jsonPathNotFound(path: "missing", line: 1)) {
            try render("{{ json_value(mage_secret_var('gcp_service_account'), 'missing') }}")
        }
        #expect(try render("x: '{{ mage_secret_var(\"nope\") }}' y: {{ env_var('UNSET') }}", allowMissing: true).output == "x: '' y: ")
    }

    @Test("Other expressions are left untouched with a warning, or refused with --strict")
    func unknownExpressions() throws {
        let text = "a: {{ variables('x') }}\nb: {{ mage_secret_var('mongo_user') }} {# comment #} {% if x %}\n"
        let rendered = try render(text)
        #expect(rendered.output == "a: {{ variables('x') }}\nb: analyst {# comment #} {% if x %}\n")
        #expect(rendered.warnings.count == 1)
        #expect(rendered.warnings[0].hasPrefix("line 1:"))
        #expect(throws: TemplateError.unsupportedExpression(text: "variables('x')", line: 1)) { try render(text, strict: true) }
    }

    @Test("json_value follows dotted paths through objects and arrays")
    func jsonPaths() {
        let json = secrets["gcp_service_account"]!
        #expect(JSONText.value(in: json, at: "nested.list.1.deep") == "found")
        #expect(JSONText.value(in: json, at: "nested.list.0") == "1")
        #expect(JSONText.value(in: json, at: "nested.list") == #"[1,{"deep":"found"}]"#)
        #expect(JSONText.value(in: json, at: "nested.list.7") == nil)
        #expect(JSONText.value(in: "not json", at: "a") == nil)
    }

    @Test("JSON is read strictly (RFC 8259) by our own reader, escapes and numbers as Foundation read them")
    func strictJSON() throws {
        func parsed(_ text: String) -> String? { JSONText.parse(Array(text.utf8)).map(\.json) }
        #expect(parsed(#" {"b": [1, 2.5, -0, 1.0, 1e2, true, null], "a": "x\u00e9\ud83d\ude00\n\"\/"} "#)
            == #"{"a":"xé😀\n\"/","b":[1,2.5,0,1,100,true,null]}"#)
        #expect(parsed("9223372036854775807") == "9223372036854775807")
        #expect(parsed(#""\u00E9""#) == #""é""#, "upper-case hex digits")
        for bad in [
            "{\"a\": 1,}", "[1,]", "{\"a\" 1}", "// c\n{}", "01", "1.", ".5", "-", "+1", "1e", "NaN", "tru", "nul",
            "\"tab\there\"", "\"\\x\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "{} x", "\"open", "", " ",
            String(repeating: "[", count: 600) + String(repeating: "]", count: 600),
        ] {
            #expect(parsed(bad) == nil, "\(bad.prefix(40))")
        }
        #expect(JSONText.parse([0x22, 0xFF, 0x22]) == nil, "not UTF-8")
        #expect(parsed(String(repeating: "[", count: 100) + String(repeating: "]", count: 100)) != nil)
        // Repeated names, found at any depth, each once, even in text that fails later.
        #expect(JSONText.repeatedMemberNames(in: Array(#"{"a":1,"b":{"c":1,"\u0063":2},"a":2,"a":3,"l":[{"d":0,"d":1}]}"#.utf8))
            == ["b.c", "a", "l[0].d"])
        #expect(JSONText.repeatedMemberNames(in: Array(#"{"a":1,"a":2,"#.utf8)) == ["a"])
        // An import file: an object of strings, nothing else.
        #expect(try SecretsFile.parse(Array(#"{"b":"2","a":""}"#.utf8)).map { "\($0.name)=\($0.value)" } == ["a=", "b=2"])
        for bad in [#"{"a":1}"#, #"["a"]"#, #"{"a":"1",}"#, #""a""#] {
            #expect(throws: SecretsFileError.notAJSONObjectOfStrings) { try SecretsFile.parse(Array(bad.utf8), format: .json) }
        }
        #expect(throws: SecretsFileError.repeatedNames(["a"])) { try SecretsFile.parse(Array(#"{"a":"1","a":"2"}"#.utf8)) }
    }

    @Test("The masker replaces every value, across any chunking, and holds back only what could be a value")
    func masking() {
        let values = ["made-up-secret", "made", "pw"]
        let text = Array("log: made-up-secret, made, pw and mad, ma, p.\nmade-up-secre".utf8)
        let expected = "log: *****, *****, ***** and mad, ma, p.\n*****-up-secre"
        for chunk in [1, 2, 3, 5, 7, 64] {
            var masker = OutputMasker(values: values)
            var out: [UInt8] = []
            var index = 0
            while index < text.count {
                out += masker.feed(Array(text[index..<min(index + chunk, text.count)]))
                index += chunk
            }
            out += masker.finish()
            #expect(String(decoding: out, as: UTF8.self) == expected, "chunks of \(chunk)")
        }
        var masker = OutputMasker(values: values)
        #expect(masker.feed(Array("ready\n".utf8)) == Array("ready\n".utf8))  // nothing held back needlessly
    }

    @Test("Secret names become variable names, or a refusal that says how to map them")
    func variableNames() throws {
        #expect(try SecretVariables.variableNames(for: ["DB_PASSWORD"]) == ["DB_PASSWORD": "DB_PASSWORD"])
        #expect(try SecretVariables.variableNames(for: ["1st"], prefix: "S_") == ["1st": "S_1st"])
        #expect(try SecretVariables.variableNames(for: ["db-password"], renames: ["db-password": "DB_PASSWORD"]) == ["db-password": "DB_PASSWORD"])
        #expect(throws: VaultError.invalidVariableName(secret: "db-password", variable: "db-password")) {
            try SecretVariables.variableNames(for: ["db-password"])
        }
        #expect(VaultError.invalidVariableName(secret: "a-b", variable: "a-b").description.contains("--map 'a-b=NAME'"))
    }
}
