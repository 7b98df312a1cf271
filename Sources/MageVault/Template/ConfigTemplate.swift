/// What an expression inside `{{ … }}` asks for.
public indirect enum TemplateExpression: Equatable, Sendable {
    /// `mage_secret_var('name')`: a secret, resolved like `get`.
    case secret(String)
    /// `mage_secret_var('name', 'project', project_uuid='P')` and the other forms of Mage's
    /// full signature `get_secret_value(name, entity, pipeline_uuid, project_uuid)`: the
    /// secret of exactly that scope, with no fallback to a parent (as Mage reads it).
    case scopedSecret(String, scope: Scope)
    /// `env_var('NAME')`: an environment variable of the process.
    case environmentVariable(String)
    /// `json_value(<expression>, 'key.path')`: a value inside the JSON text the inner
    /// expression yields.
    case jsonValue(TemplateExpression, path: String)
}

/// Why a template did not render. Messages name the file's line and the name asked for,
/// never a value.
public enum TemplateError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A secret that no scope has.
    case missingSecret(name: String, line: Int)
    /// An environment variable that is not set.
    case unsetVariable(name: String, line: Int)
    /// `json_value` over text that is not JSON, or a path that is not in it.
    case jsonPathNotFound(path: String, line: Int)
    /// An expression this renderer does not understand (with `--strict`).
    case unsupportedExpression(text: String, line: Int)
    /// `env_var` of a variable MageVault reads a key or passphrase from (`KeyVariable`).
    case keyVariable(name: String, line: Int)
    /// `mage_secret_var` naming a scope that cannot exist (`project_uuid='../x'`, an entity
    /// that is not global, project or pipeline, a project or pipeline argument missing): an
    /// error, never text left in the output.
    case invalidScope(reason: String, line: Int)

    public var description: String {
        switch self {
        case .missingSecret(let name, let line): "line \(line): no secret named '\(name)'"
        case .unsetVariable(let name, let line): "line \(line): environment variable \(name) is not set"
        case .jsonPathNotFound(let path, let line): "line \(line): json_value found nothing at '\(path)'"
        case .unsupportedExpression(let text, let line): "line \(line): cannot render {{ \(text) }}"
        case .keyVariable(let name, let line):
            "line \(line): env_var('\(name)') is refused: MageVault reads keys and passphrases from \(name) and never writes it out; store what you need as a secret and use mage_secret_var"
        case .invalidScope(let reason, let line): "line \(line): mage_secret_var names no scope that can exist: \(reason)"
        }
    }
}

/// What a render does with a secret that no scope has, or a variable that is not set.
public enum MissingPolicy: String, Sendable, CaseIterable {
    /// An error naming it and its line; nothing is rendered (the default).
    case fail
    /// Renders it as the empty string (`--allow-missing`).
    case empty
    /// Renders it as `None` with a warning, as Mage's Jinja rendering of `None` does (`--missing none`).
    case none
}

/// Renders Mage's config templates (`io_config.yaml`, `metadata.yaml`, …): replaces
/// `{{ mage_secret_var('…') }}`, `{{ env_var('…') }}` and `{{ json_value(…, '…') }}` and
/// leaves every other byte as it is. Pure: the caller supplies how a name is looked up.
public struct ConfigTemplate: Sendable {
    /// One `{{ … }}` found in the text.
    struct Placeholder {
        let range: Range<String.Index>
        let inner: Substring
        let line: Int
    }

    /// The template's text.
    public let text: String

    /// A template over `text`.
    public init(text: String) { self.text = text }

    /// The outcome of a render: the text, and warnings about expressions left as they were.
    public struct Rendering: Sendable {
        /// The rendered text.
        public let output: String
        /// One line per expression left untouched (not `--strict`).
        public let warnings: [String]
    }

    /// Every expression the template uses, in order (for `exec`-style prefetching and tests).
    public func expressions() -> [TemplateExpression] {
        placeholders().compactMap { try? Self.parse($0.inner) }
    }

    /// Renders with `secret` and `variable` as lookups (nil: missing). With
    /// `allowMissing`, a missing name renders as empty; with `strict`, an expression that
    /// is not understood is an error instead of a warning. A `mage_secret_var` naming its
    /// scope finds nothing (see the overload with `scopedSecret`).
    public func render(
        allowMissing: Bool = false, strict: Bool = false, secret: (String) throws -> String?,
        variable: (String) -> String?
    ) throws -> Rendering {
        try render(missing: allowMissing ? .empty : .fail, strict: strict, secret: secret, scopedSecret: { _, _ in nil }, variable: variable)
    }

    /// Renders with `secret` (a name resolved through the scopes, like `get`),
    /// `scopedSecret` (a name in exactly one scope, for Mage's full `mage_secret_var`
    /// signature) and `variable` as lookups (nil: missing); `missing` says what a missing
    /// one becomes. With `strict`, an expression that is not understood is an error
    /// instead of a warning.
    public func render(
        missing: MissingPolicy, strict: Bool = false, secret: (String) throws -> String?,
        scopedSecret: (String, Scope) throws -> String?, variable: (String) -> String?
    ) throws -> Rendering {
        var output = ""
        var warnings: [String] = []
        var cursor = text.startIndex
        for placeholder in placeholders() {
            output += text[cursor..<placeholder.range.lowerBound]
            cursor = placeholder.range.upperBound
            let parsed: TemplateExpression?
            do {
                parsed = try Self.parse(placeholder.inner)
            } catch let error as ExpressionParser.InvalidScope {
                throw TemplateError.invalidScope(reason: error.reason, line: placeholder.line)
            } catch {
                parsed = nil
            }
            guard let expression = parsed else {
                let shown = placeholder.inner.trimmingSpaces()
                if strict { throw TemplateError.unsupportedExpression(text: shown, line: placeholder.line) }
                warnings.append("line \(placeholder.line): left {{ \(shown) }} as it is (not mage_secret_var, env_var or json_value)")
                output += text[placeholder.range]
                continue
            }
            output += try evaluate(
                expression, line: placeholder.line, missing: missing, warnings: &warnings, secret: secret, scopedSecret: scopedSecret,
                variable: variable) ?? missingText(missing)
        }
        output += text[cursor...]
        return Rendering(output: output, warnings: warnings)
    }

    /// What a missing value renders as when `missing` lets it render.
    private func missingText(_ missing: MissingPolicy) -> String { missing == .none ? "None" : "" }

    /// The expression's text; nil when something is missing and `missing` lets it render
    /// (a warning says so for `.none`); throws when it does not.
    private func evaluate(
        _ expression: TemplateExpression, line: Int, missing: MissingPolicy, warnings: inout [String],
        secret: (String) throws -> String?, scopedSecret: (String, Scope) throws -> String?, variable: (String) -> String?
    ) throws -> String? {
        func absent(_ error: TemplateError, _ what: String, _ warnings: inout [String]) throws -> String? {
            switch missing {
            case .fail: throw error
            case .empty: return nil
            case .none:
                warnings.append("line \(line): \(what); rendered as None")
                return nil
            }
        }
        switch expression {
        case .secret(let name):
            if let value = try secret(name) { return value }
            return try absent(.missingSecret(name: name, line: line), "no secret named '\(name)'", &warnings)
        case .scopedSecret(let name, let scope):
            if let value = try scopedSecret(name, scope) { return value }
            return try absent(.missingSecret(name: name, line: line), "no secret named '\(name)' in \(scope)", &warnings)
        case .environmentVariable(let name):
            guard !KeyVariable.contains(name) else { throw TemplateError.keyVariable(name: name, line: line) }
            if let value = variable(name) { return value }
            return try absent(.unsetVariable(name: name, line: line), "environment variable \(name) is not set", &warnings)
        case .jsonValue(let inner, let path):
            guard
                let json = try evaluate(
                    inner, line: line, missing: missing, warnings: &warnings, secret: secret, scopedSecret: scopedSecret, variable: variable)
            else { return nil }
            if let value = JSONText.value(in: json, at: path) { return value }
            return try absent(.jsonPathNotFound(path: path, line: line), "json_value found nothing at '\(path)'", &warnings)
        }
    }

    /// Every `{{ … }}` of the text with its line number; `{%`/`{#` blocks are not ours.
    func placeholders() -> [Placeholder] {
        var found: [Placeholder] = []
        var line = 1
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character == "\n" { line += 1 }
            if character == "{", text[index...].hasPrefix("{{"), let close = closingBraces(after: text.index(index, offsetBy: 2)) {
                let inner = text[text.index(index, offsetBy: 2)..<close]
                let end = text.index(close, offsetBy: 2)
                found.append(Placeholder(range: index..<end, inner: inner, line: line))
                line += inner.count { $0 == "\n" }
                index = end
                continue
            }
            index = text.index(after: index)
        }
        return found
    }

    /// Where the next `}}` at or after `start` begins.
    private func closingBraces(after start: String.Index) -> String.Index? {
        var index = start
        while index < text.endIndex {
            if text[index] == "}", text[index...].hasPrefix("}}") { return index }
            index = text.index(after: index)
        }
        return nil
    }

    /// Parses the inside of `{{ … }}`: `name('arg')` calls, single or double quotes, any spacing.
    static func parse(_ inner: Substring) throws -> TemplateExpression {
        var parser = ExpressionParser(text: inner)
        let expression = try parser.expression()
        parser.skipSpaces()
        guard parser.atEnd else { throw ExpressionParser.Failure() }
        return expression
    }
}

/// A small recursive-descent parser for the three functions Mage's templates use.
struct ExpressionParser {
    struct Failure: Error {}
    /// A `mage_secret_var` call whose scope arguments name no scope that can exist.
    struct InvalidScope: Error {
        let reason: String
    }
    let text: Substring
    var index: Substring.Index

    init(text: Substring) {
        self.text = text
        index = text.startIndex
    }

    var atEnd: Bool { index == text.endIndex }

    mutating func skipSpaces() {
        while index < text.endIndex, text[index].isWhitespace { index = text.index(after: index) }
    }

    mutating func expression() throws -> TemplateExpression {
        skipSpaces()
        let function = identifier()
        try expect("(")
        let result: TemplateExpression
        switch function {
        case "mage_secret_var": result = try secretCall()
        case "env_var": result = .environmentVariable(try string())
        case "json_value":
            let inner = try expression()
            try expect(",")
            result = .jsonValue(inner, path: try string())
        default: throw Failure()
        }
        try expect(")")
        return result
    }

    /// The arguments of `mage_secret_var`, after its `(`: Mage's `get_secret_value(name,
    /// entity='global', pipeline_uuid=None, project_uuid=None)`, positional or by keyword.
    mutating func secretCall() throws -> TemplateExpression {
        let name = try string()
        let positions = ["entity", "pipeline_uuid", "project_uuid"]
        var arguments: [String: String] = [:]
        var position = 0
        var sawKeyword = false
        while true {
            skipSpaces()
            guard index < text.endIndex, text[index] == "," else { break }
            index = text.index(after: index)
            skipSpaces()
            let save = index
            let keyword = identifier()
            skipSpaces()
            if !keyword.isEmpty, index < text.endIndex, text[index] == "=" {
                index = text.index(after: index)
                guard positions.contains(String(keyword)), arguments[String(keyword)] == nil else { throw Failure() }
                arguments[String(keyword)] = try string()
                sawKeyword = true
            } else {
                index = save
                guard !sawKeyword, position < positions.count else { throw Failure() }
                arguments[positions[position]] = try string()
                position += 1
            }
        }
        guard let entity = arguments["entity"] else {
            guard arguments.isEmpty else { throw Failure() }
            return .secret(name)
        }
        func scope(project: String?, pipeline: String?) throws -> Scope {
            do { return try Scope(project: project, pipeline: pipeline) } catch { throw InvalidScope(reason: "\(error)") }
        }
        switch entity {
        case "global": return .scopedSecret(name, scope: .global)
        case "project":
            guard let project = arguments["project_uuid"] else { throw InvalidScope(reason: "a project secret needs project_uuid") }
            return .scopedSecret(name, scope: try scope(project: project, pipeline: nil))
        case "pipeline":
            guard let project = arguments["project_uuid"], let pipeline = arguments["pipeline_uuid"] else {
                throw InvalidScope(reason: "a pipeline secret needs project_uuid and pipeline_uuid")
            }
            return .scopedSecret(name, scope: try scope(project: project, pipeline: pipeline))
        default: throw InvalidScope(reason: "entity is global, project or pipeline")
        }
    }

    mutating func identifier() -> Substring {
        let start = index
        while index < text.endIndex, text[index].isLetter || text[index] == "_" { index = text.index(after: index) }
        return text[start..<index]
    }

    mutating func expect(_ character: Character) throws {
        skipSpaces()
        guard index < text.endIndex, text[index] == character else { throw Failure() }
        index = text.index(after: index)
    }

    mutating func string() throws -> String {
        skipSpaces()
        guard index < text.endIndex, text[index] == "'" || text[index] == "\"" else { throw Failure() }
        let quote = text[index]
        index = text.index(after: index)
        let start = index
        while index < text.endIndex, text[index] != quote { index = text.index(after: index) }
        guard index < text.endIndex else { throw Failure() }
        let value = String(text[start..<index])
        index = text.index(after: index)
        return value
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
