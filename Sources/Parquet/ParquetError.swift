/// Errors of the Parquet module; the message names the file, column, page or byte offset.
package struct ParquetError: Error, Sendable, CustomStringConvertible {
    package enum Code: String, Sendable {
        case corruptFile = "corrupt-file"
        case invalidSchema = "invalid-schema"
        case invalidInput = "invalid-input"
        case unsupported
        case io
    }

    package var code: Code
    package var message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { "parquet \(code.rawValue): \(message)" }
}
