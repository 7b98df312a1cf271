/// Input that MageVault refuses before touching any file.
public enum InputError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The name is the empty string.
    case emptyName
    /// The name is longer than Mage's column allows.
    case nameTooLong(bytes: Int)
    /// The name holds a character that cannot be part of a name; `position` counts characters from 1.
    case forbiddenCharacterInName(position: Int, codePoint: UInt32)
    /// The value `set` was given is empty and `--allow-empty` was not passed: raised by
    /// `SecretInput.readValue` for a prompt answered with Enter alone, or a piped or file
    /// value that `--strip-newline` leaves empty (a lone newline piped without it is
    /// `nothingPiped`, from a file `emptyFile`). ``SecretValue/validate(_:)`` does not raise
    /// it: the empty value is a value (Mage stores it), which the library and `--allow-empty`
    /// accept.
    case emptyValue
    /// Standard input was empty, or held a lone newline (`echo "$UNSET" | mage-vault set
    /// NAME`): nothing was piped to `set`.
    case nothingPiped
    /// The file a value was to be read from is empty, or holds a lone newline.
    case emptyFile(path: String)
    /// The value is larger than a record may hold.
    case valueTooLarge(bytes: Int)
    /// The value is not valid UTF-8 text.
    case valueNotUTF8
    /// A history of fewer than one version was asked for.
    case historyTooShort

    public var description: String {
        switch self {
        case .emptyName: "a secret name cannot be empty"
        case .nameTooLong(let bytes):
            "a secret name is at most \(SecretName.maximumByteCount) bytes of UTF-8; this one is \(bytes)"
        case .forbiddenCharacterInName(let position, let codePoint):
            "a secret name cannot contain control characters; character \(position) is "
                + "U+\(Hex.string(codePoint, width: 4).uppercased())"
        case .emptyValue: "the value is empty; nothing was stored (pass --allow-empty to store an empty value, as Mage allows)"
        case .nothingPiped:
            "no value was piped (standard input was empty); nothing was written. Pipe the value "
                + "(printf '%s' \"$VALUE\" | mage-vault set NAME), pass --from-file FILE, or run set on a terminal to be asked for it "
                + "(an empty value is stored only with --allow-empty)"
        case .emptyFile(let path): "\(path) is empty; nothing was written (an empty value is stored only with --allow-empty)"
        case .valueTooLarge(let bytes):
            "the value is \(bytes) bytes; a secret value is at most \(SecretValue.maximumByteCount) bytes (1 MiB)"
        case .valueNotUTF8: "the value is not valid UTF-8 text; nothing was stored"
        case .historyTooShort: "the history must keep at least 1 version of each secret"
        }
    }
}

/// A valid secret name: 1 to 255 bytes of UTF-8 (Mage's column limit) with no control
/// character (C0, DEL or C1), so that a name is always printable on one line. Spaces and
/// `/` are allowed: Mage's API accepts them and real Mage databases hold such names.
public struct SecretName: Hashable, Sendable, CustomStringConvertible {
    /// Longest name in bytes of UTF-8.
    public static let maximumByteCount = 255

    /// The name.
    public let string: String

    /// Validates `string` as a name.
    public init(_ string: String) throws(InputError) {
        let bytes = string.utf8.count
        guard bytes > 0 else { throw .emptyName }
        guard bytes <= Self.maximumByteCount else { throw .nameTooLong(bytes: bytes) }
        for (index, scalar) in string.unicodeScalars.enumerated() {
            let value = scalar.value
            if value < 0x20 || (0x7F...0x9F).contains(value) {
                throw .forbiddenCharacterInName(position: index + 1, codePoint: value)
            }
        }
        self.string = string
    }

    private init(checked string: String) { self.string = string }

    /// The name whose UTF-8 is `bytes`, or nil unless it is a valid name: what a reader
    /// checks of every name it opens. A name of ASCII alone (nearly every name) is checked
    /// byte by byte; any other goes through `init`. (Bytes below 0x80 are whole characters in
    /// UTF-8, so a control byte is a control character either way.)
    static func validated(_ bytes: UnsafeRawBufferPointer) -> SecretName? {
        guard !bytes.isEmpty, bytes.count <= maximumByteCount else { return nil }
        var ascii = true
        for byte in bytes {
            if byte < 0x20 || byte == 0x7F { return nil }
            if byte >= 0x80 { ascii = false }
        }
        if ascii { return SecretName(checked: String(decoding: bytes, as: UTF8.self)) }
        guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
        return try? SecretName(text)
    }

    public var description: String { string }
}

/// The rules for a secret value: UTF-8, at most 1 MiB. The empty value is a value (Mage
/// stores it and `get_secret_value` returns `''`), not an absence.
public enum SecretValue {
    /// Largest value in bytes. Mage keeps values in a text column; 1 MiB is far above any
    /// credential and keeps every record a line that tools handle comfortably.
    public static let maximumByteCount = 1 << 20

    /// Checks a value given as bytes.
    public static func validate(_ bytes: UnsafeRawBufferPointer) throws(InputError) {
        guard bytes.count <= maximumByteCount else { throw .valueTooLarge(bytes: bytes.count) }
        guard String(validating: bytes, as: UTF8.self) != nil else { throw .valueNotUTF8 }
    }
}

/// What tags a name: an environment's keys, or the sub-keys lent by one
/// (`EnvironmentKeys.withOpeningKeys`).
protocol NameTagging {
    /// The keyed tag of the name whose UTF-8 is `bytes`.
    func tag(ofNameBytes bytes: UnsafeRawBufferPointer) -> NameTag
}

extension OpeningKeys: NameTagging {}

extension EnvironmentKeys: NameTagging {
    /// The keyed tag of `name` in the environment of these keys.
    public func tag(of name: SecretName) -> NameTag {
        var string = name.string
        return string.withUTF8 { tag(ofNameBytes: UnsafeRawBufferPointer($0)) }
    }

    /// The keyed tag of the name whose UTF-8 is `bytes`.
    func tag(ofNameBytes bytes: UnsafeRawBufferPointer) -> NameTag {
        let (high, low) = tag(ofName: bytes)
        return NameTag(rawValue: UInt128(high) << 64 | UInt128(low))
    }
}
