/// A compression codec could not do its work: the input is damaged, truncated, or inflates past a limit.
/// The message says what was wrong; callers add which file or object it was and wrap it in their own error.
package struct CodecError: Error, Sendable, Equatable, CustomStringConvertible {
    package var message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}
