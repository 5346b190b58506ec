/// A compression codec could not do its work: the input is damaged, truncated, or inflates past a limit; or
/// it uses what is not read here; or the codec could not get its memory. The message says what was wrong;
/// callers add which file or object it was and wrap it in their own error.
package struct CodecError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Why the codec failed.
    package enum Kind: Sendable, Equatable {
        /// The bytes are damaged: a bad checksum, cut short, not the format they claim, past a limit.
        case damaged
        /// Well-formed input that uses what is not read here (an encrypted ZIP entry, a zstd window or
        /// dictionary this reader does not take).
        case unsupported
        /// The codec could not get what it needs to run (memory): nothing is known about the input.
        case resources
    }
    package var message: String
    package var kind: Kind
    package init(_ message: String, kind: Kind = .damaged) {
        self.message = message
        self.kind = kind
    }
    package var description: String { message }
}
