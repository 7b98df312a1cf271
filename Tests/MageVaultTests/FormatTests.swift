import Foundation
import Testing

@testable import MageVault

/// A ```vector block of vault-format.md: `field: value` lines.
struct SpecVector {
    let title: String
    let fields: [String: String]

    subscript(_ key: String) -> String {
        guard let value = fields[key] else { fatalError("vector '\(title)' has no field '\(key)'") }
        return value
    }

    /// Every vector block in vault-format.md, with the heading above it.
    static func all() throws -> [SpecVector] {
        let text = try String(contentsOfFile: packageRoot + "/vault-format.md", encoding: .utf8)
        var vectors: [SpecVector] = []
        var title = ""
        var fields: [String: String]? = nil
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("#") { title = line.trimmingCharacters(in: CharacterSet(charactersIn: "# ")) }
            if line == "```vector" {
                fields = [:]
            } else if line == "```", let done = fields {
                vectors.append(SpecVector(title: title, fields: done))
                fields = nil
            } else if fields != nil, let colon = line.firstIndex(of: ":") {
                fields![String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return vectors
    }
}

func hexBytes(_ text: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var index = text.startIndex
    while index < text.endIndex {
        let next = text.index(index, offsetBy: 2)
        bytes.append(UInt8(text[index..<next], radix: 16)!)
        index = next
    }
    return bytes
}

@Suite("Format: the bytes of vault-format.md")
struct FormatTests {
    @Test("Positions sorted by their strings' bytes: shared prefixes, prefixes of each other, 16 bytes and more in common, equal strings by position")
    func sortedByBytes() {
        var generator = SplitMix(seed: 11)
        let stems: [[UInt8]] = [[], Array("secret_".utf8), Array("a_sixteen_byte_p".utf8), Array("a_sixteen_byte_prefix_and_more_".utf8), [0xE6, 0x97, 0xA5]]
        let strings: [[UInt8]] = (0..<3000).map { _ in
            let stem = stems[Int(generator.next() % UInt64(stems.count))]
            let tail = (0..<Int(generator.next() % 6)).map { _ in [UInt8(ascii: "0"), UInt8(ascii: "9"), UInt8(ascii: "a"), 0x7F, 0xFF][Int(generator.next() % 5)] }
            return stem + tail
        }
        let expected = strings.indices.sorted { a, b in
            strings[a] == strings[b] ? a < b : strings[a].lexicographicallyPrecedes(strings[b])
        }
        for count in [0, 1, 2, 16, 17, 100, 3000] {  // no merge, one merge pass, three (odd), eight (even)
            let sorted = positionsSortedByBytes(count) { position in strings[position].withUnsafeBytes { UnsafeRawBufferPointer(start: $0.baseAddress, count: $0.count) } }
            #expect(sorted == expected.filter { $0 < count }, "\(count) strings")
        }
    }

    @Test("CRC-32C matches the standard check value, in hardware and in software")
    func crc32cCheckValue() {
        let check = Array("123456789".utf8).withUnsafeBytes { CRC32C.checksum($0) }
        #expect(check == 0xE306_9283)
        #expect(Array("123456789".utf8).withUnsafeBytes { CRC32C.softwareChecksum($0) } == 0xE306_9283)
        #expect(Array([UInt8]()).withUnsafeBytes { CRC32C.checksum($0) } == 0)
        // The CPU's instruction, slicing-by-8 and the bit loop agree on every length and alignment.
        let data = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        for start in 0..<9 {
            for end in stride(from: start, through: data.count, by: 13) {
                let slice = Array(data[start..<end])
                var crc: UInt32 = 0xFFFF_FFFF
                for byte in slice {
                    crc ^= UInt32(byte)
                    for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
                }
                #expect(slice.withUnsafeBytes { CRC32C.checksum($0) } == ~crc)
                #expect(slice.withUnsafeBytes { CRC32C.softwareChecksum($0) } == ~crc)
            }
        }
    }

    @Test("Hex fields parse lowercase digits only, each position checked, at every width")
    func hexFields() {
        func parse<T: FixedWidthInteger & UnsignedInteger>(_ text: String, _: T.Type) -> T? {
            Array(text.utf8).withUnsafeBytes { Hex.parse($0, at: 0, count: text.utf8.count, as: T.self) }
        }
        #expect(parse("0123456789abcdef0123456789abcdef", UInt128.self) == 0x0123_4567_89ab_cdef_0123_4567_89ab_cdef)
        #expect(parse("ffffffffffffffff", UInt64.self) == .max)
        #expect(parse("0000002a", UInt32.self) == 42)
        #expect(parse("123456789abcdef01", UInt64.self) == nil)  // 17 digits do not fit 64 bits
        let valid = "0123456789abcdef0123456789abcdef"
        for position in 0..<32 {
            for bad in ["A", "F", "g", " ", "/", ":", "`", "G"] {
                var text = Array(valid)
                text[position] = Character(bad)
                #expect(parse(String(text), UInt128.self) == nil, "\(String(text))")
            }
        }
        // Every byte value at every position of a group: accepted exactly when it is a
        // lowercase hex digit, and then with its value.
        for position in 0..<8 {
            for byte in 0...255 {
                var text = Array("8badf00d".utf8)
                text[position] = UInt8(byte)
                let parsed = text.withUnsafeBytes { Hex.parse($0, at: 0, count: 8, as: UInt32.self) }
                let scalar = Character(Unicode.Scalar(UInt8(byte)))
                let valid = scalar.isHexDigit && !scalar.isUppercase
                #expect((parsed != nil) == valid, "byte \(byte) at \(position)")
                if valid { #expect(parsed == UInt32(String(decoding: text, as: UTF8.self), radix: 16)) }
            }
        }
        for value: UInt128 in [0, 1, 0xdead_beef, .max, UInt128(UInt64.max) << 64] {
            #expect(parse(Hex.string(value, width: 32), UInt128.self) == value)
        }
    }

    @Test("The spec has test vectors for a header, a set and a delete")
    func specHasVectors() throws {
        let vectors = try SpecVector.all()
        #expect(vectors.count >= 3)
        #expect(vectors.contains { $0.fields["operation"] == "set" })
        #expect(vectors.contains { $0.fields["operation"] == "del" })
        #expect(vectors.contains { $0.fields["header"] != nil })
    }

    @Test("Every record vector in vault-format.md is exactly what the code seals, and opens back")
    func recordVectorsMatchTheCode() throws {
        for vector in try SpecVector.all() where vector.fields["operation"] != nil {
            let keys = hexBytes(vector["key"]).withUnsafeBytes { EnvironmentKeys(key: SecureBytes(copying: $0)) }
            let vault = VaultID(rawValue: UInt128(vector["vault-id"], radix: 16)!)
            let operation: MageVault.Operation = vector["operation"] == "set" ? .set : .delete
            let value = Array((vector.fields["value"] ?? "").utf8)
            let (header, line) = value.withUnsafeBytes { raw in
                RecordCodec.seal(
                    operation, name: try! SecretName(vector["name"]), value: raw,
                    environment: EnvironmentID(vector["uuid"])!, keys: keys,
                    timestamp: Timestamp(rawValue: UInt64(vector["timestamp"], radix: 16)!),
                    id: RecordID(rawValue: UInt64(vector["record-id"], radix: 16)!), vault: vault,
                    nonce: hexBytes(vector["nonce"]))
            }
            #expect(String(decoding: line, as: UTF8.self) == vector["line"] + "\n", "\(vector.title)")
            #expect(Hex.string(keys.keyID, width: 8) == vector["key-id"])
            #expect(header.tag.description == vector["tag"])
            let bare = Array(vector["line"].utf8)
            let parsed = try bare.withUnsafeBytes { try LogLine.parse($0) }
            guard case .record(let found) = parsed else {
                Issue.record("vector line did not parse as a record")
                continue
            }
            #expect(found == header)
            let opened = try bare.withUnsafeBytes { try RecordCodec.open(line: $0, header: found, keys: keys, vault: vault) }
            #expect(opened.name == vector["name"])
            #expect(opened.value() == (vector.fields["value"] ?? ""))
            #expect(try bare.withUnsafeBytes { try RecordCodec.openName(line: $0, header: found, keys: keys, vault: vault) } == vector["name"])
        }
    }

    @Test("The retired keys file vector is what the code seals, and opens back to the retired key")
    func retiredKeysVectorMatchesTheCode() throws {
        let vector = try #require(try SpecVector.all().first { $0.fields["retired-file"] != nil })
        let current = hexBytes(vector["key"]).withUnsafeBytes { EnvironmentKeys(key: SecureBytes(copying: $0)) }
        let retired = hexBytes(vector["retired-key"]).withUnsafeBytes { SecureBytes(copying: $0) }
        let file = RetiredKeysFile.encode(box: current.sealRetiredWithNonce([retired], nonce: hexBytes(vector["nonce"])))
        #expect(String(decoding: file, as: UTF8.self) == vector["retired-file"] + "\n")
        let box = try #require(file.withUnsafeBytes { RetiredKeysFile.parse($0) })
        let opened = try #require(box.withUnsafeBytes { current.openRetired($0) })
        #expect(opened.count == 1)
        #expect(opened[0].withUnsafeBytes { Array($0) } == hexBytes(vector["retired-key"]))
    }

    @Test("The passphrase key file vector: Argon2id of the passphrase and salt gives the key id the file names")
    func passphraseVectorMatchesTheCode() throws {
        let vector = try #require(try SpecVector.all().first { $0.fields["key-file"] != nil })
        let passphrase = Array(vector["passphrase"].utf8).withUnsafeBytes { SecureBytes(copying: $0) }
        let salt = hexBytes(vector["salt"])
        let operations = UInt64(vector["opslimit"])!, memory = UInt64(vector["memlimit"])!
        let key = try #require(Passphrase.deriveKey(passphrase, salt: salt, operations: operations, memory: memory))
        let keyID = EnvironmentKeys.keyID(of: key)
        #expect(Hex.string(keyID, width: 8) == vector["key-id"])
        let file = KeyFile.passphrase(operations: operations, memory: memory, salt: salt, keyID: keyID).encoded()
        #expect(String(decoding: file, as: UTF8.self) == vector["key-file"] + "\n")
        #expect(file.withUnsafeBytes { KeyFile.parse($0) } == .passphrase(operations: operations, memory: memory, salt: salt, keyID: keyID))
    }

    @Test("The header vector is exactly the code's header line")
    func headerVectorMatchesTheCode() throws {
        for vector in try SpecVector.all() where vector.fields["header"] != nil {
            let header = FileHeader(vaultID: VaultID(rawValue: UInt128(vector["vault-id"], radix: 16)!))
            #expect(String(decoding: header.encoded(), as: UTF8.self) == vector["header"] + "\n")
            let bytes = Array(vector["header"].utf8)
            #expect(try bytes.withUnsafeBytes { try FileHeader.parse($0) } == header)
        }
    }

    @Test("Every single-byte change to a record line is rejected by parsing or by opening")
    func everyByteChangeIsDetected() throws {
        let vector = try #require(try SpecVector.all().first { $0.fields["operation"] == "set" })
        let keys = hexBytes(vector["key"]).withUnsafeBytes { EnvironmentKeys(key: SecureBytes(copying: $0)) }
        let vault = VaultID(rawValue: UInt128(vector["vault-id"], radix: 16)!)
        let original = Array(vector["line"].utf8)
        var accepted = 0
        for position in original.indices {
            for flip: UInt8 in [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80] {
                var line = original
                line[position] ^= flip
                let outcome: Result<String, any Error> = Result {
                    try line.withUnsafeBytes { raw in
                        guard case .record(let header) = try LogLine.parse(raw) else { throw FormatError.notAVault }
                        return try RecordCodec.open(line: raw, header: header, keys: keys, vault: vault).value()
                    }
                }
                if case .success = outcome { accepted += 1 }
            }
        }
        #expect(accepted == 0)
    }

    @Test("Uppercase hex, a wrong separator or a bad operation are malformed")
    func strictSpelling() throws {
        let vector = try #require(try SpecVector.all().first { $0.fields["operation"] == "set" })
        var line = Array(vector["line"].utf8)
        line[4] = UInt8(ascii: "A")  // inside the uuid
        #expect(throws: FormatError.self) { try line.withUnsafeBytes { try LogLine.parse($0) } }
    }

    @Test("A header of a newer version is refused as such, not as damage")
    func newerVersionIsNamed() {
        let line = Array("mage-vault 2 00000000000000000000000000000000 00000000".utf8)
        #expect(throws: FormatError.unsupportedVersion("2")) { try line.withUnsafeBytes { try FileHeader.parse($0) } }
    }

    @Test("Names: empty, too long, NUL, newline and other control characters are refused; '/' and spaces are Mage's and allowed")
    func nameRules() {
        #expect(throws: InputError.emptyName) { try SecretName("") }
        #expect(throws: InputError.nameTooLong(bytes: 256)) { try SecretName(String(repeating: "a", count: 256)) }
        #expect(throws: Never.self) { try SecretName(String(repeating: "é", count: 127)) }  // 254 bytes
        for forbidden in ["a\0b", "a\nb", "a\rb", "a\tb", "\u{7F}", "\u{85}", "\u{1B}[31m"] {
            #expect(throws: InputError.self) { try SecretName(forbidden) }
        }
        for allowed in ["postgres password ü 🔑", "team/api_key", "/", "a / b /", " leading and trailing "] {
            #expect(throws: Never.self) { try SecretName(allowed) }
        }
    }

    @Test("Values: over 1 MiB or not UTF-8 are refused; the empty value is a value, as in Mage")
    func valueRules() {
        #expect(throws: Never.self) { try [UInt8]().withUnsafeBytes { try SecretValue.validate($0) } }
        let big = [UInt8](repeating: 0x61, count: (1 << 20) + 1)
        #expect(throws: InputError.valueTooLarge(bytes: (1 << 20) + 1)) { try big.withUnsafeBytes { try SecretValue.validate($0) } }
        let exact = [UInt8](repeating: 0x61, count: 1 << 20)
        #expect(throws: Never.self) { try exact.withUnsafeBytes { try SecretValue.validate($0) } }
        #expect(throws: InputError.valueNotUTF8) { try [0xFF, 0xFE].withUnsafeBytes { try SecretValue.validate($0) } }
    }

    @Test("Timestamps print as UTC ISO 8601, matching the C library's calendar on many dates")
    func iso8601() {
        #expect(Timestamp(milliseconds: 0).iso8601 == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp(milliseconds: 951_782_400_123).iso8601 == "2000-02-29T00:00:00.123Z")
        #expect(Timestamp(milliseconds: 1_795_881_804_443).iso8601 == "2026-11-28T16:03:24.443Z")
        for step in stride(from: Int64(0), to: 4_102_444_800, by: 7_654_321) {  // up to 2100
            var seconds = time_t(step)
            var parts = tm()
            gmtime_r(&seconds, &parts)
            let expected = String(format: "%04d-%02d-%02dT%02d:%02d:%02d.000Z", parts.tm_year + 1900, parts.tm_mon + 1,
                                  parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec)
            #expect(Timestamp(milliseconds: UInt64(step) * 1000).iso8601 == expected)
        }
        // Milliseconds, and years up to the last a timestamp holds (10889), as bytes too.
        let last = Int((UInt64(1) << 48 - 1) / 1000)
        for step in stride(from: 0, through: last, by: last / 997) {
            let milliseconds = UInt64(step) * 1000 + UInt64(step % 1000)
            var seconds = time_t(step)
            var parts = tm()
            gmtime_r(&seconds, &parts)
            let expected = String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1,
                                  parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec, Int32(step % 1000))
            #expect(Timestamp(milliseconds: milliseconds).iso8601 == expected)
            var bytes = Array("before ".utf8)
            Timestamp(milliseconds: milliseconds).appendISO8601(to: &bytes)
            #expect(bytes == Array("before \(expected)".utf8))
        }
        // The writer that keeps each day's date writes every time as `iso8601` does: within
        // a day, from one day to the next and back, and past the year 9999.
        var writer = Timestamp.ISO8601Writer()
        var text = [UInt8](repeating: 0, count: Timestamp.iso8601MaximumByteCount)
        let times: [UInt64] = [
            0, 1, 86_399_999, 86_400_000, 86_400_001, 1_795_881_804_443, 1_795_881_804_444, 1_795_881_000_000, 5,
            253_402_300_799_999, 253_402_300_800_000, 253_402_300_800_001, (1 << 48) - 1, 1_795_881_804_443,
        ]
        for milliseconds in times {
            let count = text.withUnsafeMutableBytes { writer.write(Timestamp(milliseconds: milliseconds), to: $0) }
            #expect(String(decoding: text[..<count], as: UTF8.self) == Timestamp(milliseconds: milliseconds).iso8601, "\(milliseconds)")
        }
    }

    @Test("Hybrid logical clock: never below the wall clock, always above what was seen")
    func hybridLogicalClock() {
        let seen = Timestamp(milliseconds: 5_000)
        #expect(Timestamp.next(after: nil, wallClock: 4_000) == Timestamp(milliseconds: 4_000))
        #expect(Timestamp.next(after: seen, wallClock: 4_000) == Timestamp(rawValue: seen.rawValue + 1))
        #expect(Timestamp.next(after: seen, wallClock: 6_000) == Timestamp(milliseconds: 6_000))
        #expect(Timestamp.next(after: seen, wallClock: 5_000)! > seen)
    }
}
