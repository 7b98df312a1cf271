import Foundation
import Testing

@testable import MageVault

@Suite("Log: framing, torn tails, files that are not vaults")
struct LogTests {
    let directory = TemporaryDirectory()

    @Test("readLines gives every line asked for, in any order, near or far apart, as readLine does")
    func readLinesInBatches() throws {
        let directory = TemporaryDirectory()
        let environment = try makeEnvironment(in: directory, "batch")
        let vault = try Vault(environment: environment)
        // Lines of ~40 kB or ~4 kB: one or several records per read, read into one buffer
        // (grown for a line longer than the window); 120 of them span many reads.
        for index in 0..<120 {
            try vault.setSecret(named: "n\(index)", value: String(repeating: "v", count: (index % 3 == 0 ? 3_000 : 30_000) + index * 700))
        }
        let log = try VaultLog(path: environment.location.logFile)
        var spans: [(offset: UInt64, length: Int)] = []
        _ = try log.scan(from: 0) { line in if case .success(.record) = line.parsed { spans.append((line.offset, line.length)) } }
        var generator = SplitMix(seed: 7)
        let chosen = (0..<60).map { _ in spans[Int(generator.next() % UInt64(spans.count))] }  // repeats included
        var seen = [[UInt8]?](repeating: nil, count: chosen.count)
        try log.readLines(chosen) { index, bytes in seen[index] = Array(bytes) }
        for (index, span) in chosen.enumerated() {
            #expect(seen[index] == (try log.readLine(at: span.offset, length: span.length)))
        }
        // A few lines of a long log: windows widen to cover it, and lines far apart within
        // one are read one by one.
        for few in [[spans[0], spans[spans.count - 1]], [spans[spans.count / 2]], [spans[3], spans[2], spans[spans.count - 2]]] {
            var found = [[UInt8]?](repeating: nil, count: few.count)
            try log.readLines(few) { index, bytes in
                #expect(found[index] == nil, "visited twice")
                found[index] = Array(bytes)
            }
            for (index, span) in few.enumerated() { #expect(found[index] == (try log.readLine(at: span.offset, length: span.length))) }
        }
        try log.readLines([]) { _, _ in Issue.record("nothing to visit") }
    }

    @Test("Cut at every byte offset of its last records, a log opens with exactly the complete records (a last line lacking only its LF among them), and the next writer cuts the tail")
    func tornTailAtEveryOffset() throws {
        let environment = try makeEnvironment(in: directory, "dev")
        let path = environment.location.logFile
        let vault = try Vault(environment: environment)
        for index in 1...3 { try vault.setSecret(named: "name\(index)", value: "made-up value \(index)") }
        let full = try contents(path)
        let all = try lines(of: path)
        let lastTwoStart = all.dropLast(2).reduce(0) { $0 + $1.count + 1 }
        for cut in lastTwoStart...full.count {
            let prefix = Array(full[..<cut])
            try write(prefix, to: path)
            // Cut just before a line's LF: the line is whole, and kept.
            let lacksOnlyNewline = cut < full.count && full[cut] == 0x0A
            let complete = prefix.split(separator: 0x0A, omittingEmptySubsequences: false).count - (lacksOnlyNewline ? 0 : 1)
            let reopened = try Vault(environment: environment)
            let status = try reopened.status()
            #expect(status.environments.first?.records == complete - 1, "cut at \(cut)")
            #expect(status.tornBytes == (lacksOnlyNewline ? 0 : UInt64(cut - (prefix.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0))))
            #expect(status.damagedLines == 0)
            for index in 1...3 {
                let expected = index <= complete - 1 ? "made-up value \(index)" : nil
                #expect(try reopened.secretValue(named: "name\(index)") == expected, "cut at \(cut)")
            }
            // The next writer cuts the torn tail and appends after the last complete line.
            try reopened.setSecret(named: "after", value: "appended")
            let repaired = try contents(path)
            let cleanEnd = lacksOnlyNewline ? cut + 1 : prefix.lastIndex(of: 0x0A)! + 1
            #expect(repaired.count > cleanEnd, "cut at \(cut)")
            #expect(Array(repaired.prefix(cleanEnd)) == (lacksOnlyNewline ? prefix + [0x0A] : Array(prefix[..<cleanEnd])), "cut at \(cut)")
            #expect(repaired.last == 0x0A)
            #expect(try Vault(environment: environment).status().tornBytes == 0)
            #expect(try Vault(environment: environment).secretValue(named: "after") == "appended")
        }
    }

    @Test("A file that is not a vault, an empty file, or a newer version is refused and left untouched")
    func notAVault() throws {
        let environment = try makeEnvironment(in: directory, "dev")
        let path = environment.location.logFile
        let cases: [([UInt8], FormatError)] = [
            (Array("DATABASE_URL=postgres://example\n".utf8), .notAVault),
            ([], .notAVault),
            (Array("mage-vault 1 00112233".utf8), .notAVault),  // no complete line at all
            (Array("mage-vault 2 5ec2e7a5ec2e7a5ec2e7a5ec2e7a5ec2 00000000\nfuture records\n".utf8), .unsupportedVersion("2")),
        ]
        for (bytes, error) in cases {
            try write(bytes, to: path)
            #expect(throws: VaultError.unreadableLog(path: path, error)) { try Vault(environment: environment) }
            #expect(try contents(path) == bytes)
        }
    }

    @Test("A new log is created whole with its header, mode 0600, with its lock file beside it")
    func creation() throws {
        let environment = try makeEnvironment(in: directory, "dev", log: "elsewhere/deeper/shared.log")
        let vault = try Vault(environment: environment)
        #expect(!FileManager.default.fileExists(atPath: environment.location.logFile))
        #expect(try vault.createLogIfMissing())
        #expect(try !vault.createLogIfMissing())
        let bytes = try contents(environment.location.logFile)
        #expect(bytes.count == 55)
        #expect(bytes.starts(with: Array("mage-vault 1 ".utf8)))
        #expect(try mode(environment.location.logFile) == 0o600)
        #expect(try mode(environment.location.logFile + ".lock") == 0o600)
        // No temporary file is left beside it.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.file("elsewhere/deeper"))
        #expect(leftovers.sorted() == ["shared.log", "shared.log.lock"])
    }

    @Test("A line longer than any record is one damaged line at its offset, skipped with a bounded buffer, whatever its length around the limit")
    func overlongLinesAreSkippedWithABoundedBuffer() throws {
        let environment = try makeEnvironment(in: directory, "dev")
        let path = environment.location.logFile
        let vault = try Vault(environment: environment)
        try vault.setSecret(named: "before", value: "made-up before")
        try vault.setSecret(named: "after", value: "made-up after")
        let clean = try lines(of: path)
        let limit = LogLine.maximumLength
        for length in [limit - 1, limit, limit + 1, (1 << 20) - 1, 1 << 20, (2 << 20) + 3, 64 << 20] {
            var all = clean
            all.insert([UInt8](repeating: UInt8(ascii: "J"), count: length), at: 2)
            for torn in [false, true] {
                var bytes = joined(all)
                if torn { bytes = joined(clean) + [UInt8](repeating: UInt8(ascii: "J"), count: length) }
                try write(bytes, to: path)
                let junkOffset = UInt64(clean[0].count + clean[1].count + 2 + (torn ? clean[2].count + 1 : 0))
                let log = try VaultLog(path: path)
                var damaged: [UInt64] = []
                var records = 0
                let end = try log.scan(from: 0) { line in
                    switch line.parsed {
                    case .failure:
                        damaged.append(line.offset)
                        #expect(line.length == length, "length \(length)")
                        if length > limit { #expect(line.bytes.isEmpty) }
                    case .success(.record): records += 1
                    case .success(.fileHeader): break
                    }
                }
                #expect(damaged == (torn ? [] : [junkOffset]), "length \(length) torn \(torn)")
                #expect(records == 2, "length \(length) torn \(torn)")
                #expect(end.tornBytes == (torn ? UInt64(length) : 0), "length \(length)")
                #expect(end.end == UInt64(bytes.count) - end.tornBytes)
                #expect(log.largestScanBuffer <= VaultLog.scanBufferBound, "length \(length)")
                var offsets: [UInt64] = []
                _ = try log.scanLines(from: 0) { offset, line in
                    offsets.append(offset)
                    if offset == junkOffset, length > limit { #expect(line.isEmpty) }
                }
                #expect(offsets.count == (torn ? 3 : 4))
                #expect(log.largestScanBuffer <= VaultLog.scanBufferBound, "length \(length)")
                #expect(try Vault(environment: environment).secretValue(named: "after") == "made-up after")
            }
        }
    }

    @Test("The longest valid record (a 255-byte name, a 1 MiB value) is exactly LogLine.maximumLength bytes, and is read")
    func longestRecordIsTheLimit() throws {
        let environment = try makeEnvironment(in: directory, "dev")
        let vault = try Vault(environment: environment)
        let name = String(repeating: "n", count: SecretName.maximumByteCount)
        let value = String(repeating: "v", count: SecretValue.maximumByteCount)
        try vault.setSecret(named: name, value: value)
        #expect(try lines(of: environment.location.logFile).map(\.count).max() == LogLine.maximumLength)
        #expect(LogLine.maximumLength == 1_398_642)
        let read = try Vault(environment: environment).secretValue(named: name)
        #expect(read.map { $0 == value } == true, "the longest value did not read back whole")
    }
}
