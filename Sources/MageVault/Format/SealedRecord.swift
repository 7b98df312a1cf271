/// Why a record did not open.
public enum OpenError: Error, Equatable, Sendable {
    /// The record names a key other than the one we hold: nothing was decrypted.
    case wrongKey(recordKeyID: UInt32, ourKeyID: UInt32)
    /// The record names our key but does not authenticate, or its contents contradict its
    /// header: it was altered, forged, moved, or damaged.
    case notAuthentic(String)
}

/// A record opened with its environment's keys. The value stays in secure memory until
/// asked for.
public struct OpenedRecord: Sendable {
    /// The clear header it was found under.
    public let header: RecordHeader
    /// The secret's name.
    public let name: String
    /// The plaintext; the value is the bytes from `valueOffset` on.
    let plaintext: SecureBytes
    let valueOffset: Int

    /// The value as text (a `set` record) or the empty string (a `delete`).
    public func value() -> String {
        plaintext.withUnsafeBytes { String(decoding: $0[valueOffset...], as: UTF8.self) }
    }

    /// Calls `body` with the value's bytes, still in secure memory (no copy is made).
    public func withValueBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try plaintext.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[valueOffset...])) }
    }
}

/// Sealing and opening of record lines, as `vault-format.md` specifies them.
///
/// The body is `crypto_secretbox(binding || len(name) || name || value)` where
/// `binding = BLAKE2b-128(vault-id || clear header)`: secretbox has no associated data, so
/// the body carries a digest of everything around it that must not change.
public enum RecordCodec {
    static let bindingCount = 16

    /// Seals one record and returns its header and its whole line, newline included.
    public static func seal(
        _ operation: Operation, name: SecretName, value: UnsafeRawBufferPointer,
        environment: EnvironmentID, keys: EnvironmentKeys, timestamp: Timestamp, id: RecordID, vault: VaultID,
        nonce: [UInt8]? = nil
    ) -> (header: RecordHeader, line: [UInt8]) {
        precondition(operation == .set || value.isEmpty, "a delete carries no value")
        let nameBytes = Array(name.string.utf8)
        let header = RecordHeader(
            operation: operation, environment: environment, keyID: keys.keyID, tag: keys.tag(of: name),
            timestamp: timestamp, id: id)
        var line = header.encodedPrefix()
        let binding = binding(prefix: line, vault: vault)
        let plaintext = SecureBytes(count: bindingCount + 1 + nameBytes.count + value.count) { out in
            var cursor = 0
            func put(_ bytes: UnsafeRawBufferPointer) {
                UnsafeMutableRawBufferPointer(rebasing: out[cursor..<(cursor + bytes.count)]).copyMemory(from: bytes)
                cursor += bytes.count
            }
            binding.withUnsafeBytes(put)
            withUnsafeBytes(of: UInt8(nameBytes.count)) { put($0) }
            nameBytes.withUnsafeBytes(put)
            put(value)
        }
        let box = plaintext.withUnsafeBytes { plain in
            nonce.map { SecretBox.seal(plain, keys: keys, nonce: $0) } ?? SecretBox.seal(plain, keys: keys)
        }
        line.append(contentsOf: box.withUnsafeBytes { Base64.encode($0) })
        appendChecksum(to: &line)
        return (header, line)
    }

    /// Opens the record on `line` (without its newline) whose parsed header is `header`.
    public static func open(
        line: UnsafeRawBufferPointer, header: RecordHeader, keys: EnvironmentKeys, vault: VaultID
    ) throws(OpenError) -> OpenedRecord {
        let box = try box(of: line, header: header, keys: keys)
        guard let plaintext = box.withUnsafeBytes({ SecretBox.open($0, keys: keys) }) else {
            throw .notAuthentic("authentication failed")
        }
        let name = try plaintext.withUnsafeBytes { plain throws(OpenError) in
            try checkContents(plain, line: line, header: header, keys: keys, vault: vault, whole: true)
        }
        return OpenedRecord(header: header, name: name, plaintext: plaintext, valueOffset: bindingCount + 1 + name.utf8.count)
    }

    /// Opens only the name of a record: the whole body is authenticated, the value is never
    /// decrypted. `list` calls this once per name, so nothing here allocates but the name:
    /// the body is decoded into temporary memory and the name opened in secure scratch memory.
    public static func openName(
        line: UnsafeRawBufferPointer, header: RecordHeader, keys: EnvironmentKeys, vault: VaultID
    ) throws(OpenError) -> String {
        try SecureBytes.withScratch(count: nameScratchCount) { scratch throws(OpenError) in
            try openName(line: line, header: header, keys: keys, vault: vault, scratch: scratch)
        }
    }

    /// The secure memory `openName` works in: the keystream's start and the longest name.
    static let nameScratchCount = SecretBox.prefixScratchCount(upTo: bindingCount + 1 + SecretName.maximumByteCount)

    /// `openName` working in `scratch` (secure memory of `nameScratchCount` bytes, which the
    /// caller holds and wipes): `list` opens every name in one region instead of taking and
    /// wiping one per record.
    static func openName(
        line: UnsafeRawBufferPointer, header: RecordHeader, keys: EnvironmentKeys, vault: VaultID,
        scratch: UnsafeMutableRawBufferPointer
    ) throws(OpenError) -> String {
        try keys.withOpeningKeys { keys throws(OpenError) in try openName(line: line, header: header, keys: keys, vault: vault, scratch: scratch) }
    }

    /// `openName` in `scratch`, with sub-keys lent by `EnvironmentKeys.withOpeningKeys`: `list`
    /// borrows them once for all the records it opens.
    static func openName(
        line: UnsafeRawBufferPointer, header: RecordHeader, keys: OpeningKeys, vault: VaultID,
        scratch: UnsafeMutableRawBufferPointer
    ) throws(OpenError) -> String {
        let body = try body(of: line, header: header, keyID: keys.keyID)
        let opened = withUnsafeTemporaryAllocation(byteCount: body.count / 4 * 3, alignment: 8) {
            decoded -> Result<String, OpenError> in
            guard let count = Base64.decodePublic(body, into: decoded) else {
                return .failure(.notAuthentic("body is not canonical base64"))
            }
            let box = UnsafeRawBufferPointer(rebasing: decoded[..<count])
            // Decrypted: the binding, the name's length, and as many bytes as that says.
            let nameEnd = { (first: UnsafeRawBufferPointer) in
                first.count > bindingCount ? bindingCount + 1 + Int(first[bindingCount]) : first.count
            }
            let longest = bindingCount + 1 + SecretName.maximumByteCount
            let checked = SecretBox.withOpenedPrefix(box, key: keys.sealing, length: nameEnd, upTo: longest, scratch: scratch) { prefix in
                Result { () throws(OpenError) in
                    try checkContents(prefix, line: line, header: header, keys: keys, vault: vault, whole: false)
                }
            }
            return checked ?? .failure(.notAuthentic("authentication failed"))
        }
        return try opened.get()
    }

    /// The base64 body of a record line, once the key `keyID` names is shown to be the one
    /// it names.
    private static func body(of line: UnsafeRawBufferPointer, header: RecordHeader, keyID: UInt32) throws(OpenError)
        -> UnsafeRawBufferPointer
    {
        guard header.keyID == keyID else { throw .wrongKey(recordKeyID: header.keyID, ourKeyID: keyID) }
        return UnsafeRawBufferPointer(rebasing: line[RecordHeader.bodyOffset..<(line.count - 9)])
    }

    private static func box(of line: UnsafeRawBufferPointer, header: RecordHeader, keys: EnvironmentKeys) throws(OpenError) -> [UInt8] {
        let body = try body(of: line, header: header, keyID: keys.keyID)
        var decoded: Int? = nil
        let box = [UInt8](unsafeUninitializedCapacity: body.count / 4 * 3) { buffer, initialized in
            decoded = Base64.decodePublic(body, into: UnsafeMutableRawBufferPointer(buffer))
            initialized = decoded ?? 0
        }
        guard decoded != nil else { throw .notAuthentic("body is not canonical base64") }
        return box
    }

    /// Checks binding, name and tag of an opened plaintext (or of its prefix) and returns the name.
    private static func checkContents<Keys: NameTagging>(
        _ plain: UnsafeRawBufferPointer, line: UnsafeRawBufferPointer, header: RecordHeader, keys: Keys,
        vault: VaultID, whole: Bool
    ) throws(OpenError) -> String {
        let prefix = UnsafeRawBufferPointer(rebasing: line[..<RecordHeader.prefixLength])
        guard plain.count > bindingCount, bindingMatches(plain, prefix: prefix, vault: vault) else {
            throw .notAuthentic("sealed under another header or vault")
        }
        let nameCount = Int(plain[bindingCount])
        let nameEnd = bindingCount + 1 + nameCount
        guard nameCount > 0, nameEnd <= plain.count else { throw .notAuthentic("bad name length") }
        let nameBytes = UnsafeRawBufferPointer(rebasing: plain[(bindingCount + 1)..<nameEnd])
        guard let name = SecretName.validated(nameBytes) else { throw .notAuthentic("sealed name is not a valid name") }
        guard keys.tag(ofNameBytes: nameBytes) == header.tag else { throw .notAuthentic("sealed name does not match the tag") }
        if whole, header.operation == .delete, plain.count != nameEnd {
            throw .notAuthentic("a delete carries a value")
        }
        if whole, header.operation == .set,
            String(validating: UnsafeRawBufferPointer(rebasing: plain[nameEnd...]), as: UTF8.self) == nil
        {
            throw .notAuthentic("value is not UTF-8")
        }
        return name.string
    }

    /// Whether `plain` starts with the binding of the clear header `prefix` in `vault`.
    private static func bindingMatches(_ plain: UnsafeRawBufferPointer, prefix: UnsafeRawBufferPointer, vault: VaultID) -> Bool {
        var expected: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &expected) { binding(prefix: prefix, vault: vault, into: $0) }
        // Compared as two words, in memory order: not secret, anyone who reads the log can
        // compute the binding.
        return plain.loadUnaligned(fromByteOffset: 0, as: UInt64.self) == expected.0
            && plain.loadUnaligned(fromByteOffset: 8, as: UInt64.self) == expected.1
    }

    static func binding(prefix: [UInt8], vault: VaultID) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: bindingCount) { buffer, initialized in
            prefix.withUnsafeBytes { binding(prefix: $0, vault: vault, into: UnsafeMutableRawBufferPointer(buffer)) }
            initialized = bindingCount
        }
    }

    /// BLAKE2b-128(vault id || clear header), written to `out` (16 bytes).
    static func binding(prefix: UnsafeRawBufferPointer, vault: VaultID, into out: UnsafeMutableRawBufferPointer) {
        withUnsafeBytes(of: vault.rawValue.bigEndian) { id in blake2b(id, prefix, into: out) }
    }
}
