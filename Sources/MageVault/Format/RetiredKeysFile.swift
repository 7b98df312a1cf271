/// The retired keys file, `<key file>.retired`: the keys an environment used before its
/// rekeys, sealed under sub-key 4 of its current key, so that records a rekey did not
/// re-seal (merged in from a branch that still wrote with the old key, say) stay readable.
/// One text line: `mage-vault-retired 1 <base64 of nonce[24] || secretbox(key || key || …)>`.
public enum RetiredKeysFile {
    static let magic = Array("mage-vault-retired 1 ".utf8)

    /// The file's bytes for a sealed box.
    public static func encode(box: [UInt8]) -> [UInt8] {
        magic + box.withUnsafeBytes { Base64.encode($0) } + [0x0A]
    }

    /// The sealed box the file holds; nil when it is not such a file.
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> [UInt8]? {
        guard bytes.count > magic.count + 1, bytes.starts(with: magic), bytes.last == 0x0A else { return nil }
        return Base64.decode(UnsafeRawBufferPointer(rebasing: bytes[magic.count..<(bytes.count - 1)]))
    }
}
