import Foundation
import Testing

@testable import MageVault

/// The ```console blocks of the README and of each page of `docs/`, run top to bottom as a
/// newcomer would type them: each file in a sandbox home of its own (`/home/me` in the text)
/// with the built `mage-vault` first on `PATH`, so a reader who starts a page and follows
/// only what it shows gets what it shows. Each command's output must be what the block
/// shows, so the documentation and the tool cannot drift apart.
///
/// How a block is read:
/// - `$ command` lines are run by bash, one after the other; exported variables and the
///   current folder carry over to the next command and the next block. Every other line is
///   output: standard output and standard error together, in the order the block shows
///   them (the two streams are matched as an interleaving, since a terminal interleaves them).
/// - A line `…` stands for any number of lines.
/// - Uuids and vault ids (32 hex digits), times, the time stamps in kept logs' names and
///   key ids (`key 68235604`) compare as "any"; the sandbox home prints as `/home/me`.
/// - `$ cat FILE` of a file that does not exist yet creates it with the lines the block shows:
///   that is how the README shows a file's contents before using it.
/// - `<!-- readme-test: skip: why -->` just before a block leaves it out (a terminal prompt,
///   a server, a program that is not here); every console block is run or says why not.
///   There is no hidden setup: what a block needs, an earlier block of the same page shows.
@Suite("README: the console examples are what the tool prints", .serialized)
struct ReadmeConsoleTests {
    /// One ```console block and what precedes it.
    struct Block {
        let line: Int
        let text: [String]
        let skip: String?
    }

    /// One command of a block and the output shown under it.
    struct Step {
        let command: String
        let expected: [String]
    }

    static func blocks(of readme: String) -> [Block] {
        let lines = readme.components(separatedBy: "\n")
        var blocks: [Block] = []
        var index = 0
        var skip: String? = nil
        while index < lines.count {
            let line = lines[index]
            if line.hasPrefix("<!-- readme-test: skip:") {
                skip = String(line.dropFirst("<!-- readme-test: skip:".count).dropLast(" -->".count)).trimmingCharacters(in: .whitespaces)
            } else if line == "```console" {
                var text: [String] = []
                let start = index + 1
                index += 1
                while index < lines.count, lines[index] != "```" {
                    text.append(lines[index])
                    index += 1
                }
                blocks.append(Block(line: start, text: text, skip: skip))
                skip = nil
            } else if line.hasPrefix("```") {  // a directive belongs to the block right after it
                skip = nil
            }
            index += 1
        }
        return blocks
    }

    static func steps(of block: Block) -> [Step] {
        var steps: [Step] = []
        var index = 0
        while index < block.text.count {
            guard block.text[index].hasPrefix("$ ") else {
                index += 1
                continue
            }
            var command = String(block.text[index].dropFirst(2))
            while command.hasSuffix("\\"), index + 1 < block.text.count {
                index += 1
                command += "\n" + block.text[index]
            }
            index += 1
            var expected: [String] = []
            while index < block.text.count, !block.text[index].hasPrefix("$ ") {
                expected.append(block.text[index])
                index += 1
            }
            steps.append(Step(command: command, expected: expected))
        }
        return steps
    }

    /// The sandbox: a home folder, the shell's saved state, and how to run a line in it.
    final class Sandbox {
        let directory = TemporaryDirectory()
        var home: String { directory.file("home") }
        var state: String { directory.file("state.sh") }
        var cwd: String { directory.file("cwd") }
        let wrapper: String

        init() throws {
            wrapper = directory.file("run.sh")
            try FileManager.default.createDirectory(atPath: directory.file("home"), withIntermediateDirectories: true)
            try write(Array(directory.file("home").utf8), to: directory.file("cwd"))
            try write([], to: directory.file("state.sh"))
            let script = """
                if [ -s "$README_TEST_STATE" ]; then . "$README_TEST_STATE"; fi
                cd "$(cat "$README_TEST_CWD")" || exit 99
                . "$README_TEST_COMMAND"
                status=$?
                export -p | grep -v -e ' README_TEST_' -e ' PWD=' -e ' OLDPWD=' -e ' SHLVL=' -e ' _=' > "$README_TEST_STATE"
                pwd > "$README_TEST_CWD"
                exit $status
                """
            try write(Array(script.utf8), to: wrapper)
        }

        /// Runs `command` as the next line typed in the sandbox's shell.
        func run(_ command: String) throws -> ToolResult {
            let file = directory.file("command.sh")
            try write(Array((command + "\n").utf8), to: file)
            let bin = FileSystem.parentDirectory(of: toolPath)
            let variables = [
                "HOME=\(home)", "PATH=\(bin):/usr/local/bin:/usr/bin:/bin", "LANG=C", "LC_ALL=C", "TERM=dumb",
                "GIT_AUTHOR_NAME=Me", "GIT_AUTHOR_EMAIL=me@example.com", "GIT_COMMITTER_NAME=Me",
                "GIT_COMMITTER_EMAIL=me@example.com", "GIT_CONFIG_NOSYSTEM=1", "GIT_MERGE_AUTOEDIT=no",
                "README_TEST_STATE=\(state)", "README_TEST_CWD=\(cwd)", "README_TEST_COMMAND=\(file)",
                "README_TEST_REPOSITORY=\(packageRoot)",
            ]
            return try MageVaultTests.run("/usr/bin/env", ["-i"] + variables + ["/bin/bash", wrapper])
        }

        var currentDirectory: String {
            (try? String(decoding: contents(cwd), as: UTF8.self).trimmingCharacters(in: .newlines)) ?? home
        }
    }

    /// `line` with what differs from run to run replaced by placeholders.
    static func normalized(_ line: String, home: String) -> String {
        var text = line.replacing(home, with: "/home/me")
        let patterns: [(String, String)] = [
            (#"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"#, "<time>"),
            (#"\d{8}T\d{6}\.\d{3}Z"#, "<stamp>"),
            (#"\b[0-9a-f]{32}\b"#, "<id>"),
            (#"key [0-9a-f]{8}\b"#, "key <key id>"),
        ]
        for (pattern, placeholder) in patterns {
            text = text.replacing(try! Regex(pattern), with: placeholder)
        }
        return text
    }

    /// Whether `expected` is `output` and `error` interleaved, `…` matching any lines.
    static func matches(_ expected: [String], _ output: [String], _ error: [String]) -> Bool {
        var memo: [Int: Bool] = [:]
        func match(_ e: Int, _ o: Int, _ r: Int) -> Bool {
            let key = (e * (output.count + 1) + o) * (error.count + 1) + r
            if let known = memo[key] { return known }
            var result = false
            if e == expected.count {
                result = o == output.count && r == error.count
            } else if expected[e] == "…" {
                result = match(e + 1, o, r) || (o < output.count && match(e, o + 1, r)) || (r < error.count && match(e, o, r + 1))
            } else {
                result = (o < output.count && output[o] == expected[e] && match(e + 1, o + 1, r))
                    || (r < error.count && error[r] == expected[e] && match(e + 1, o, r + 1))
            }
            memo[key] = result
            return result
        }
        return match(0, 0, 0)
    }

    static func lines(_ text: String) -> [String] {
        var lines = text.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    /// The README, then every page of `docs/`, by name.
    static var documents: [String] {
        let pages = (try? FileManager.default.contentsOfDirectory(atPath: packageRoot + "/docs")) ?? []
        return ["README.md"] + pages.filter { $0.hasSuffix(".md") }.sorted().map { "docs/" + $0 }
    }

    @Test(
        "Every console block of the README and docs/ runs and prints what it shows, or says why it cannot run here",
        arguments: documents)
    func consoleBlocks(document: String) throws {
        let text = String(decoding: try contents(packageRoot + "/" + document), as: UTF8.self)
        #expect(!text.contains("readme-test: before"), "\(document): setup is shown to the reader, never hidden")
        let blocks = Self.blocks(of: text)
        let sandbox = try Sandbox()
        var ran = 0
        for block in blocks {
            if let reason = block.skip {
                #expect(!reason.isEmpty, "\(document):\(block.line): a skipped block says why")
                continue
            }
            let steps = Self.steps(of: block)
            #expect(!steps.isEmpty, "\(document):\(block.line): a console block without a command")
            for step in steps {
                let words = step.command.split(separator: " ")
                if words.count == 2, words[0] == "cat" {
                    let path = EnvironmentLocation.absolute(sandbox.currentDirectory + "/" + words[1])
                    if !FileManager.default.fileExists(atPath: path) {
                        try write(Array(step.expected.map { $0 + "\n" }.joined().utf8), to: path)
                    }
                }
                let result = try sandbox.run(step.command)
                let home = sandbox.home
                let expected = step.expected.map { Self.normalized($0, home: "/home/me") }
                let output = Self.lines(result.text).map { Self.normalized($0, home: home) }
                let error = Self.lines(result.error).map { Self.normalized($0, home: home) }
                #expect(
                    Self.matches(expected, output, error),
                    """
                    \(document):\(block.line): $ \(step.command)
                    shows:
                    \(expected.joined(separator: "\n"))
                    printed (standard output):
                    \(output.joined(separator: "\n"))
                    printed (standard error):
                    \(error.joined(separator: "\n"))
                    """)
            }
            ran += 1
        }
        #expect(ran >= (document == "README.md" ? 5 : 1), "\(document): only \(ran) console blocks ran")
    }

    @Test("The matcher: interleaved streams, … for any lines, placeholders for ids and times")
    func matcher() {
        #expect(Self.matches(["a", "b", "c"], ["a", "c"], ["b"]))
        #expect(!Self.matches(["a", "c", "b"], ["a", "b"], ["c", "x"]))
        #expect(Self.matches(["a", "…", "d"], ["a", "b"], ["c", "d"]))
        #expect(!Self.matches(["a"], ["a", "b"], []))
        #expect(Self.matches([], [], []))
        #expect(
            Self.normalized("/tmp/x/home/.mage_data 5ec827b5a32693eaed735dd98ddeb80e 2026-11-26T16:03:24.443Z retired key 68235604", home: "/tmp/x/home")
                == "/home/me/.mage_data <id> <time> retired key <key id>")
        let parsed = Self.blocks(of: "<!-- readme-test: skip: a server -->\n```console\n$ serve\n```\n```console\n$ a \\\n  b\nout\n```\n")
        #expect(parsed.count == 2)
        #expect(parsed[0].skip == "a server" && parsed[1].skip == nil)
        #expect(Self.steps(of: parsed[1]).map(\.command) == ["a \\\n  b"])
        #expect(Self.steps(of: parsed[1]).map(\.expected) == [["out"]])
    }
}
