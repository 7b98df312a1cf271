import CSodium
import Foundation
import Testing

@testable import MageVault

/// The points of `vault-format.md` that an implementation written from it alone had to
/// guess, or read differently from the tool (issue 23): each test states the rule as the
/// spec now writes it.
@Suite("Spec: the rules of vault-format.md an independent reader relies on")
struct SpecTests {
    /// The key, vault id and set line of the spec's vector 2.
    static func setVector() throws -> (keys: EnvironmentKeys, vault: VaultID, line: [UInt8]) {
        let vector = try #require(try SpecVector.all().first { $0.fields["operation"] == "set" })
        let keys = hexBytes(vector["key"]).withUnsafeBytes { EnvironmentKeys(key: SecureBytes(copying: $0)) }
        return (keys, VaultID(rawValue: UInt128(vector["vault-id"], radix: 16)!), Array(vector["line"].utf8))
    }

    /// A record line sealed under the vector key, its value `value` (its length sets the body's padding).
    static func sealed(value: String, keys: EnvironmentKeys, vault: VaultID) -> [UInt8] {
        let line = Array(value.utf8).withUnsafeBytes { bytes in
            RecordCodec.seal(
                .set, name: try! SecretName("a"), value: bytes, environment: EnvironmentID("d3a1c0de5ca1ab1ed3a1c0de5ca1ab1e")!,
                keys: keys, timestamp: Timestamp(rawValue: 0x018c_5b6a_4c00_0000), id: RecordID(rawValue: 1), vault: vault
            ).line
        }
        return Array(line.dropLast())
    }

    /// Respellings of a record's body that a lax base64 decoder reads as the same bytes, or
    /// that libsodium 1.0.18 reads as '/': each with its checksum recomputed, as a forger
    /// would, so that only the spelling is wrong.
    static func respellings() throws -> [(what: String, line: [UInt8])] {
        let (keys, vault, line) = try setVector()
        let body = RecordHeader.bodyOffset..<(line.count - 9)
        func replacing(_ old: UInt8, with new: UInt8, in line: [UInt8]) -> [UInt8] {
            var changed = line
            changed[body.first { line[$0] == old }!] = new
            return withFreshChecksum(changed)
        }
        var respelled: [(String, [UInt8])] = [
            ("a byte above 0x7F for '/'", replacing(UInt8(ascii: "/"), with: 0xAF, in: line)),
            ("'_' for '/' (the URL-safe alphabet)", replacing(UInt8(ascii: "/"), with: UInt8(ascii: "_"), in: line)),
            ("a space inside the body", replacing(UInt8(ascii: "Q"), with: UInt8(ascii: " "), in: line)),
            ("'=' before the last group", replacing(UInt8(ascii: "Q"), with: UInt8(ascii: "="), in: line)),
        ]
        // '+' spelled '-': a body that holds a '+'.
        let plus = (0..<64).lazy.map { sealed(value: String(repeating: "x", count: $0), keys: keys, vault: vault) }
            .first { $0[RecordHeader.bodyOffset..<($0.count - 9)].contains(UInt8(ascii: "+")) }!
        respelled.append(("'-' for '+' (the URL-safe alphabet)", replacing(UInt8(ascii: "+"), with: UInt8(ascii: "-"), in: plus)))
        // Nonzero unused bits: before "==" (vector 2 ends "cw==") and before "=".
        precondition(line[line.count - 12] == UInt8(ascii: "w") && line[line.count - 11] == UInt8(ascii: "="))
        var twoPads = line
        twoPads[line.count - 12] = UInt8(ascii: "x")
        respelled.append(("nonzero bits before '=='", withFreshChecksum(twoPads)))
        var onePad = sealed(value: "x", keys: keys, vault: vault)  // 59 sealed bytes: one '='
        precondition(onePad[onePad.count - 10] == UInt8(ascii: "=") && onePad[onePad.count - 11] != UInt8(ascii: "="))
        onePad[onePad.count - 11] = withBase64Value(of: onePad[onePad.count - 11]) { $0 | 1 }
        respelled.append(("nonzero bits before '='", withFreshChecksum(onePad)))
        return respelled
    }

    /// The base64 character whose value is `change(value of character)`.
    static func withBase64Value(of character: UInt8, _ change: (UInt8) -> UInt8) -> UInt8 {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        return alphabet[Int(change(UInt8(alphabet.firstIndex(of: character)!)))]
    }

    @Test("A respelled body (a byte above 0x7F, '-' or '_', a space, early '=', nonzero bits before '=') is damage found without keys; parsing defers it, opening refuses it")
    func respelledBodiesAreDamageFoundWithoutKeys() throws {
        let (keys, vault, _) = try Self.setVector()
        for (what, line) in try Self.respellings() {
            let header = try line.withUnsafeBytes { raw -> RecordHeader in
                guard case .record(let header) = try LogLine.parse(raw) else { throw FormatError.notAVault }
                return header
            }
            #expect(throws: FormatError.self, "\(what)") { try line.withUnsafeBytes { try LogLine.checkRecordBody($0) } }
            #expect(throws: OpenError.self, "\(what)") {
                try line.withUnsafeBytes { try RecordCodec.open(line: $0, header: header, keys: keys, vault: vault) }
            }
        }
        // Every record vector's body is canonical.
        for vector in try SpecVector.all() where vector.fields["line"] != nil {
            #expect(throws: Never.self) { try Array(vector["line"].utf8).withUnsafeBytes { try LogLine.checkRecordBody($0) } }
        }
    }

    @Test("The keyless body check accepts exactly what the decoders accept: every byte at every place of a body")
    func bodyCheckMatchesTheDecoders() throws {
        let (keys, vault, vectorLine) = try Self.setVector()
        // Bodies ending in "==", "=" and no padding.
        for original in [vectorLine, Self.sealed(value: "x", keys: keys, vault: vault), Self.sealed(value: "xy", keys: keys, vault: vault)] {
            for position in RecordHeader.bodyOffset..<(original.count - 9) {
                for byte in 0...255 {
                    var line = original
                    line[position] = UInt8(byte)
                    let checked = (try? line.withUnsafeBytes { try LogLine.checkRecordBody($0) }) != nil
                    let (fast, sodium) = line.withUnsafeBytes { raw in
                        let text = UnsafeRawBufferPointer(rebasing: raw[RecordHeader.bodyOffset..<(raw.count - 9)])
                        let fast = withUnsafeTemporaryAllocation(byteCount: text.count, alignment: 8) { Base64.decodePublic(text, into: $0) != nil }
                        return (fast, Base64.decode(text) != nil)
                    }
                    #expect(checked == fast && checked == sodium, "byte \(byte) at column \(position)")
                }
            }
        }
    }

    @Test("verify without keys reports a respelled body as a damaged line, and the genuine line beside it as healthy")
    func keylessVerifyReportsRespelledBodies() throws {
        let (_, vault, line) = try Self.setVector()
        let directory = TemporaryDirectory()
        let path = directory.file("vault.log")
        var file = FileHeader(vaultID: vault).encoded() + line + [0x0A]
        var offsets: [UInt64] = []
        for (_, respelled) in try Self.respellings() {
            offsets.append(UInt64(file.count))
            file += respelled + [0x0A]
        }
        try write(file, to: path)
        let report = try Vault.verify(
            try VaultLog(path: path), keys: [], limit: nil, wallClock: 0x018c_5b6a_4c00_0000 >> 16, progress: { _, _ in })
        #expect(report.damaged.map(\.offset) == offsets)
        #expect(!report.damaged.contains { $0.offset == UInt64(FileHeader.length + 1) })
    }

    @Test("A body shorter than 80 characters (the base64 of 58 bytes: a 1-byte name, an empty value) is damaged at parse time")
    func shortestBody() throws {
        let (_, _, line) = try Self.setVector()
        let prefix = Array(line[..<RecordHeader.bodyOffset])
        for characters in stride(from: 4, through: 88, by: 4) {
            let candidate = withFreshChecksum(prefix + Array(repeating: UInt8(ascii: "A"), count: characters) + Array(" 00000000".utf8))
            let parsed = Result { try candidate.withUnsafeBytes { try LogLine.parse($0) } }
            if characters < 80 {
                #expect(throws: FormatError.malformed("record too short"), "\(characters)") { try parsed.get() }
            } else {
                #expect(throws: Never.self, "\(characters)") { try parsed.get() }
            }
        }
        let shortestSealed = 24 + 16 + 16 + 1 + 1  // nonce, MAC, binding, name length, a 1-byte name
        #expect((shortestSealed + 2) / 3 * 4 == 80)
        #expect(RecordHeader.bodyOffset + 80 + 9 == 202)
    }

    @Test("Line lengths as the spec counts them: the longest valid line without its LF, the size example with it")
    func lineLengths() throws {
        #expect(LogLine.maximumLength == 1_398_642)
        // "For a 7-byte name and a 27-byte value that is 123 + 4 × ⌈(57 + 34) / 3⌉ = 247 bytes",
        // newline included: vector 2 seals `secret1` and a 27-byte value.
        let (_, _, line) = try Self.setVector()
        #expect(line.count + 1 == 247)
    }

    @Test("A passphrase key file spells its costs in decimal without sign or leading zeros, within libsodium's Argon2id limits")
    func passphraseFileCosts() throws {
        let vector = try #require(try SpecVector.all().first { $0.fields["key-file"] != nil })
        let good = vector["key-file"]
        func parse(_ text: String) -> KeyFile? { Array((text + "\n").utf8).withUnsafeBytes { KeyFile.parse($0) } }
        #expect(parse(good) != nil)
        let costs = "2 67108864"
        #expect(good.contains(" \(costs) "))
        for (what, bad) in [
            ("a leading zero in opslimit", "02 67108864"), ("a leading zero in memlimit", "2 067108864"),
            ("a plus sign", "+2 67108864"), ("a minus sign", "2 -67108864"), ("opslimit 0", "0 67108864"),
            ("memlimit below 8192", "2 8191"), ("opslimit past 2^32 - 1", "4294967296 67108864"),
            ("memlimit past libsodium's", "2 4398046510081"), ("memlimit past UInt64", "2 18446744073709551616"),
            ("an empty field", "2  67108864"), ("a non-ASCII digit", "\u{0662} 67108864"),
        ] {
            #expect(parse(good.replacingOccurrences(of: " \(costs) ", with: " \(bad) ")) == nil, "\(what)")
        }
        #expect(parse(good.replacingOccurrences(of: " \(costs) ", with: " 4294967295 4398046510080 ")) != nil)
        #expect(parse(good.replacingOccurrences(of: " \(costs) ", with: " 1 8192 ")) != nil)
        #expect(Array((good + "\r\n").utf8).withUnsafeBytes { KeyFile.parse($0) } == nil)
        #expect(Array(good.utf8).withUnsafeBytes { KeyFile.parse($0) } == nil)  // no LF
        #expect(parse(good.uppercased().replacingOccurrences(of: "MAGE-VAULT-PASSPHRASE 1 ARGON2ID13", with: "mage-vault-passphrase 1 argon2id13")) == nil)
        // The limits are libsodium's.
        #expect(KeyFile.operationsRange.lowerBound == UInt64(crypto_pwhash_argon2id_opslimit_min()))
        #expect(KeyFile.operationsRange.upperBound == UInt64(crypto_pwhash_argon2id_opslimit_max()))
        #expect(KeyFile.memoryRange.lowerBound == UInt64(crypto_pwhash_argon2id_memlimit_min()))
        #expect(KeyFile.memoryRange.upperBound == UInt64(crypto_pwhash_argon2id_memlimit_max()))
    }

    @Test("A first line's version is another version only when it is a decimal number (no leading zero) greater than 1")
    func headerVersionSpelling() {
        func parse(_ version: String) -> Result<FileHeader, FormatError> {
            Result { () throws(FormatError) in
                try Array("mage-vault \(version) 00000000000000000000000000000000 00000000".utf8).withBytes { raw throws(FormatError) in
                    try FileHeader.parse(raw)
                }
            }
        }
        for newer in ["2", "10", "999"] {
            #expect(throws: FormatError.unsupportedVersion(newer)) { try parse(newer).get() }
        }
        for notAVersion in ["0", "01", "\u{0662}", "\u{00BD}", "", "-1", "1a"] {
            #expect(throws: FormatError.malformed("header version '\(notAVersion)'"), "'\(notAVersion)'") { try parse(notAVersion).get() }
        }
    }

    @Test("A header line of version 2 inside a version 1 log is a damaged line; the lines after it are read")
    func newerHeaderInsideALogIsDamage() throws {
        let (_, vault, line) = try Self.setVector()
        var newer = Array("mage-vault 2 ".utf8)
        Hex.append(vault.rawValue, width: 32, to: &newer)
        appendChecksum(to: &newer)
        let directory = TemporaryDirectory()
        let path = directory.file("vault.log")
        try write(FileHeader(vaultID: vault).encoded() + newer + line + [0x0A], to: path)
        var seen: [String] = []
        _ = try VaultLog(path: path).scan(from: 0) { scanned in
            switch scanned.parsed {
            case .success(.fileHeader): seen.append("header")
            case .success(.record): seen.append("record")
            case .failure(let error): seen.append("\(error)")
            }
        }
        #expect(seen == ["header", "\(FormatError.unsupportedVersion("2"))", "record"])
    }

    @Test("Valid UTF-8 is Unicode's well-formed UTF-8: no overlong form, surrogate or code point past U+10FFFF; noncharacters are valid")
    func validUTF8() {
        let invalid: [[UInt8]] = [
            [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xF0, 0x80, 0x80, 0xAF],  // overlong '/'
            [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF],  // surrogates
            [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xFF],  // past U+10FFFF
            [0x61, 0xC3], [0x80],  // cut short, a lone continuation byte
        ]
        for bytes in invalid {
            #expect(throws: InputError.valueNotUTF8, "\(bytes)") { try bytes.withUnsafeBytes { try SecretValue.validate($0) } }
            #expect(bytes.withUnsafeBytes { SecretName.validated($0) } == nil, "\(bytes)")
        }
        let valid: [[UInt8]] = [
            [0xEF, 0xBF, 0xBF], [0xEF, 0xB7, 0x90], [0xEF, 0xBB, 0xBF],  // U+FFFF, U+FDD0, U+FEFF
            [0xF4, 0x8F, 0xBF, 0xBF], [0xED, 0x9F, 0xBF], [0xEE, 0x80, 0x80],  // U+10FFFF, U+D7FF, U+E000
        ]
        for bytes in valid {
            #expect(throws: Never.self, "\(bytes)") { try bytes.withUnsafeBytes { try SecretValue.validate($0) } }
            #expect(bytes.withUnsafeBytes { SecretName.validated($0) } != nil, "\(bytes)")
        }
        // C1 controls are valid UTF-8 but not in a name.
        #expect([0xC2, 0x85].withUnsafeBytes { SecretName.validated($0) } == nil)
    }

    @Test("A uuid file is 32 lowercase hex digits, optionally followed by one LF, and nothing else")
    func uuidFileSyntax() throws {
        let uuid = "d3a1c0de5ca1ab1ed3a1c0de5ca1ab1e"
        for (text, accepted) in [
            (uuid, true), (uuid + "\n", true), (uuid + "\n\n", false), (uuid + "\r\n", false), (uuid + " ", false),
            (" " + uuid, false), (uuid.uppercased(), false), ("d3a1c0de-5ca1-ab1e-d3a1-c0de5ca1ab1e", false),
            (String(uuid.dropLast()), false), (uuid + "0", false), ("", false),
        ] {
            let directory = TemporaryDirectory()
            let location = EnvironmentLocation(dataDirectory: directory.path, variables: [:])
            try FileManager.default.createDirectory(atPath: location.secretsDirectory, withIntermediateDirectories: true)
            try write(Array(text.utf8), to: location.uuidFile)
            try write((0..<32).map { UInt8($0) }, to: location.keyFile)
            chmod(location.keyFile, 0o600)
            let opened = Result { () throws(VaultError) in try Environment.open(location, create: false) }
            switch opened {
            case .success(let environment):
                #expect(accepted, "'\(text.debugDescription)'")
                #expect(environment.id.description == uuid)
            case .failure(let error):
                #expect(!accepted, "'\(text.debugDescription)': \(error)")
            }
        }
    }
}
