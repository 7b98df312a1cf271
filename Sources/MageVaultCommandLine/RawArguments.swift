#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The program's arguments as the kernel passed them, before Swift turns them into
/// `String`s. `CommandLine.arguments` repairs bytes that are not UTF-8 with U+FFFD, so
/// `set $'\xff\xfe'` and `set $'\xc0\xaf'` would name one secret; a path would name another
/// file. The raw bytes are checked first, and such an argument is refused, never repaired.
public enum RawArguments {
    /// An argument that is not valid UTF-8. It says where, never what: the argument may be
    /// a secret's name.
    public struct NotUTF8: Error, Equatable, Sendable, CustomStringConvertible {
        /// The argument's position after the program's name, from 1.
        public let argument: Int
        /// The position of its first byte that is not UTF-8, from 1.
        public let byte: Int

        /// Where the argument is not UTF-8, and what to do (never the argument itself).
        public var description: String {
            "argument \(argument) is not valid UTF-8 text (byte \(byte) is not); names, paths and options must be "
                + "UTF-8, and bytes that are not are refused rather than changed; nothing was done. "
                + "Convert the argument to UTF-8 (for example with iconv) and try again"
        }
    }

    /// The first argument (the program's name excluded) whose bytes are not valid UTF-8, or nil.
    public static func firstNotUTF8() -> NotUTF8? {
        let count = Int(CommandLine.argc)
        for index in 1..<max(count, 1) {
            guard let argument = CommandLine.unsafeArgv[index] else { continue }
            let bytes = UnsafeRawBufferPointer(start: argument, count: strlen(argument))
            if let position = firstInvalidByte(bytes) { return NotUTF8(argument: index, byte: position + 1) }
        }
        return nil
    }

    /// Where the first byte of `bytes` that does not belong to valid UTF-8 is, or nil when
    /// all of it is valid (overlong forms, surrogates and code points above U+10FFFF are not).
    static func firstInvalidByte(_ bytes: UnsafeRawBufferPointer) -> Int? {
        if String(validating: bytes, as: UTF8.self) != nil { return nil }
        var decoder = UTF8()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): offset += UTF8.width(scalar)
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }
}
