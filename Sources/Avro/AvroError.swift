/// Errors of the Avro module: a malformed schema, a corrupt file, a value that does not fit its schema.
package struct AvroError: Error, Sendable, CustomStringConvertible {
    package enum Code: String, Sendable {
        case invalidSchema = "invalid-schema"
        case corruptData = "corrupt-data"
        case valueMismatch = "value-mismatch"
        case unsupportedCodec = "unsupported-codec"
    }

    package var code: Code
    /// Names the file, byte offset and field involved.
    package var message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { "avro \(code.rawValue): \(message)" }
}
