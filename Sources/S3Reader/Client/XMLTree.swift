import Foundation

#if canImport(FoundationXML)
import FoundationXML
#endif

/// A parsed XML element: name, text, children. Enough for S3's responses.
struct XMLTree {
    var name: String
    var text = ""
    var children: [XMLTree] = []

    func child(_ name: String) -> XMLTree? { children.first { $0.name == name } }
    func all(_ name: String) -> [XMLTree] { children.filter { $0.name == name } }
    func value(_ name: String) -> String? { child(name)?.text }

    static func parse(_ bytes: [UInt8]) -> XMLTree? {
        let builder = Builder()
        let parser = XMLParser(data: Data(bytes))
        parser.delegate = builder
        guard parser.parse(), let root = builder.stack.first?.children.first else { return nil }
        return root
    }

    /// Builds the tree; used by one parser on one thread.
    private final class Builder: NSObject, XMLParserDelegate {
        var stack = [XMLTree(name: "#document")]

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            stack.append(XMLTree(name: name))
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            stack[stack.count - 1].text += string
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            let done = stack.removeLast()
            stack[stack.count - 1].children.append(done)
        }
    }
}
