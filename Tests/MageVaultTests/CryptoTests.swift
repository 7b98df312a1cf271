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
            #expect(changed.withUnsafeBytes { SecretBox.openPrefix($0, count: 4, keys: keys) } == nil)
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
                let prefix = box.withUnsafeBytes { SecretBox.openPrefix($0, count: count, keys: keys) }
                #expect(prefix?.withUnsafeBytes { Array($0) } == Array(plaintext.prefix(count)))
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
        }
    }
}
