import Testing

@testable import MageVault

@Suite("Crypto: keys, secretbox, tags")
struct CryptoTests {
    let keys = EnvironmentKeys(key: fixedKey())

    @Test("Sub-keys are derived deterministically, one per purpose, and differ between keys")
    func subKeys() {
        let again = EnvironmentKeys(key: fixedKey())
        let other = EnvironmentKeys(key: fixedKey(1))
        #expect(keys.keyID == again.keyID)
        #expect(keys.keyID != other.keyID)
        #expect(keys.sealing.constantTimeEquals(again.sealing))
        #expect(!keys.sealing.constantTimeEquals(keys.tagging))
        let name = Array("secret1".utf8)
        #expect(name.withUnsafeBytes { keys.tag(ofName: $0) } == name.withUnsafeBytes { again.tag(ofName: $0) })
        #expect(name.withUnsafeBytes { keys.tag(ofName: $0) } != name.withUnsafeBytes { other.tag(ofName: $0) })
    }

    @Test("Small secure buffers share guarded slabs without overlapping, and a released one is wiped before reuse")
    func slabSlots() throws {
        // More than a slab holds, of both slab sizes, each filled with its own byte.
        func fill(_ index: Int) -> UInt8 { UInt8(truncatingIfNeeded: index % 251 + 1) }
        var held: [SecureBytes] = []
        for index in 0..<200 {
            let count = index % 2 == 0 ? 32 : 200
            held.append(SecureBytes(count: count) { $0.initializeMemory(as: UInt8.self, repeating: fill(index)) })
        }
        for (index, bytes) in held.enumerated() {
            let intact = bytes.withUnsafeBytes { $0.allSatisfy { $0 == fill(index) } }
            #expect(intact, "buffer \(index) was overwritten")
        }
        held.removeAll()  // every slot back on its free list, wiped
        // A buffer released, then a slot of its size taken at once: it is that buffer's slot
        // (the free lists are last in, first out), unless a test running beside this one took
        // it first, and then another slot, wiped as well (or fresh from libsodium). Either way
        // none of the released bytes is in it.
        for count in [32, 64, 200, 256, 1000, 1024] {
            _ = SecureBytes(count: count) { $0.initializeMemory(as: UInt8.self, repeating: 0xAB) }
            let wiped = SecureBytes.withScratch(count: count) { !$0.contains(0xAB) }
            #expect(wiped, "a reused slot of \(count) bytes still held a released buffer's bytes")
        }
    }

    @Test("A sealed box opens with its key only, and never after any byte changes")
    func sealOpen() {
        let plaintext = Array("made-up value for a test".utf8)
        let box = plaintext.withUnsafeBytes { SecretBox.seal($0, keys: keys) }
        let opened = box.withUnsafeBytes { SecretBox.open($0, keys: keys) }
        #expect(opened?.withUnsafeBytes { Array($0) } == plaintext)
        #expect(box.withUnsafeBytes { SecretBox.open($0, keys: EnvironmentKeys(key: fixedKey(9))) } == nil)
        for index in box.indices {
            var changed = box
            changed[index] ^= 0x01
            #expect(changed.withUnsafeBytes { SecretBox.open($0, keys: keys) } == nil)
            #expect(changed.withUnsafeBytes { SecretBox.withOpenedPrefix($0, count: 4, keys: keys) { Array($0) } } == nil)
        }
    }

    @Test("Two seals of one plaintext use different nonces")
    func freshNonces() {
        let plaintext = Array("same".utf8)
        let first = plaintext.withUnsafeBytes { SecretBox.seal($0, keys: keys) }
        let second = plaintext.withUnsafeBytes { SecretBox.seal($0, keys: keys) }
        #expect(first.prefix(SecretBox.nonceByteCount) != second.prefix(SecretBox.nonceByteCount))
    }

    @Test("Opening a prefix gives exactly the first bytes of the full opening, for every length")
    func prefixAgreesWithFullOpen() {
        for length in [0, 1, 31, 32, 33, 63, 64, 65, 200, 1000] {
            let plaintext = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            let box = plaintext.withUnsafeBytes { SecretBox.seal($0, keys: keys) }
            for count in [0, 1, 16, 17, 32, 33, 100, 272, 2000] {
                let prefix = box.withUnsafeBytes { SecretBox.withOpenedPrefix($0, count: count, keys: keys) { Array($0) } }
                #expect(prefix == Array(plaintext.prefix(count)))
            }
        }
    }

    @Test("A prefix whose length its first byte tells is the full opening's, across keystream blocks, and never past the plaintext")
    func prefixOfToldLengthAgreesWithFullOpen() {
        for length in [0, 1, 16, 17, 31, 32, 33, 63, 64, 65, 95, 96, 97, 200, 300] {
            for told in [0, 1, 15, 16, 17, 31, 32, 33, 64, 95, 96, 97, 150, 255] {
                // The first byte says how long the prefix is, as a record's name length does.
                let plaintext = (0..<length).map { $0 == 0 ? UInt8(told) : UInt8(truncatingIfNeeded: $0 &* 13 &+ 5) }
                let box = plaintext.withUnsafeBytes { SecretBox.seal($0, keys: keys) }
                for maximum in [0, 40, 272] {
                    let prefix = box.withUnsafeBytes { sealed in
                        SecretBox.withOpenedPrefix(sealed, keys: keys, length: { first in first.isEmpty ? 0 : 1 + Int(first[0]) }, upTo: maximum) {
                            Array($0)
                        }
                    }
                    let expected = length == 0 ? 0 : min(1 + told, length, maximum)
                    #expect(prefix == Array(plaintext.prefix(expected)), "length \(length), told \(told), maximum \(maximum)")
                }
                var changed = box
                changed[changed.count - 1] ^= 1
                #expect(changed.withUnsafeBytes { SecretBox.withOpenedPrefix($0, keys: keys, length: { _ in 1 }, upTo: 272) { _ in true } } == nil)
            }
        }
    }

    @Test("Base64 decoding accepts only the canonical padded spelling")
    func strictBase64() {
        let encoded = [UInt8](1...10).withUnsafeBytes { Base64.encode($0) }
        #expect(String(decoding: encoded, as: UTF8.self) == "AQIDBAUGBwgJCg==")
        #expect(encoded.withUnsafeBytes { Base64.decode($0) } == [UInt8](1...10))
        for bad in ["AQIDBAUGBwgJCg", "AQIDBAUGBwgJCh==", "AQID BAUGBwgJCg==", "AQIDBAUGBwgJCg=\n"] {
            #expect(Array(bad.utf8).withUnsafeBytes { Base64.decode($0) } == nil, "\(bad)")
            #expect(Self.decodePublic(Array(bad.utf8)) == nil, "\(bad)")
        }
        // libsodium alone would read a byte past 0x7F as a character ("/" for 0x80).
        for byte in [0x80, 0xC3, 0xFF] as [UInt8] {
            let bad = [byte] + Array("UJD".utf8)
            #expect(bad.withUnsafeBytes { Base64.decode($0) } == nil)
            #expect(Self.decodePublic(bad) == nil)
        }
    }

    /// `Base64.decodePublic` into a fresh array, nil when it refuses.
    static func decodePublic(_ text: [UInt8]) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: text.count / 4 * 3)
        let count = text.withUnsafeBytes { input in out.withUnsafeMutableBytes { Base64.decodePublic(input, into: $0) } }
        return count.map { Array(out.prefix($0)) }
    }

    @Test("The fast decoder of record bodies accepts and decodes exactly what libsodium's does, whatever byte is changed")
    func publicBase64AgreesWithLibsodium() {
        var generator = SystemRandomNumberGenerator()
        for length in Array(0..<20) + [31, 32, 33, 100] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let encoded = bytes.withUnsafeBytes { Base64.encode($0) }
            #expect(Self.decodePublic(encoded) == bytes)
            // Every byte value at every position: the alphabet, "=", and everything else.
            var disagreements: [String] = []
            for position in encoded.indices {
                for value in 0...255 {
                    var changed = encoded
                    changed[position] = UInt8(value)
                    let expected = changed.withUnsafeBytes { Base64.decode($0) }
                    if Self.decodePublic(changed) != expected { disagreements.append("length \(length), byte \(value) at \(position)") }
                }
            }
            #expect(disagreements.isEmpty, "\(disagreements.prefix(5))")
            // Cut short, or a byte longer: never a multiple of 4 and never accepted.
            #expect(Self.decodePublic(Array(encoded.dropLast())) == nil || encoded.isEmpty)
            #expect(Self.decodePublic(encoded + [UInt8(ascii: "A")]) == nil)
        }
        // The output must have room for three bytes per quad.
        let text = Array("QUJD".utf8)
        var small = [UInt8](repeating: 0, count: 2)
        #expect(text.withUnsafeBytes { input in small.withUnsafeMutableBytes { Base64.decodePublic(input, into: $0) } } == nil)
    }
}
