import IcebergCore
import IcebergIngest
import Testing

/// `SchemaText.schema` reads all of its text: what is left after the last column (a missing comma, a `;`) is an
/// error naming it and where it starts, not columns silently dropped.
@Suite struct SchemaTextTests {
    @Test(arguments: [
        ("id long not null event_time timestamptz", "at character 18: unexpected 'event_time timestamptz' after the last column"),
        ("id long; ts timestamptz", "at character 8: unexpected '; ts timestamptz' after the last column"),
        ("id long, name string)", "at character 21: unexpected ')' after the last column"),
        ("id long, user struct<name string> extra", "at character 35: unexpected 'extra' after the last column"),
    ])
    func leftoverTextIsAnError(_ text: String, _ message: String) throws {
        let error = #expect(throws: IngestError.self) { try SchemaText.schema(text) }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.message == "schema '\(text)', \(message) (columns are separated by commas)", "\(error?.message ?? "")")
    }

    /// A long leftover is cut short in the message.
    @Test func aLongLeftoverIsShortened() throws {
        let error = #expect(throws: IngestError.self) { try SchemaText.schema("id long " + String(repeating: "x", count: 100)) }
        #expect(error?.message.contains("unexpected '" + String(repeating: "x", count: 40) + "...' after the last column") == true)
    }

    /// The forms the README, the examples and the inference's proposals use still parse, whitespace and a
    /// trailing comma included.
    @Test(arguments: [
        ("id long not null, event_time timestamptz, user struct<name string, country string>, amount decimal(10,2)", 4),
        ("id bigint not null, e timestamptz, m map<string, list<int>>, s struct<a: int, b decimal(20, 3)>", 4),
        ("id long not null, tags list<string>, fx fixed[4], deep list<struct<k string, v list<double>>>", 4),
        ("line string not null", 1),
        ("  id long,\n  name string,\n", 2),
        ("id long not null, event_time timestamptz ", 2),
    ])
    func validFormsStillParse(_ text: String, _ columns: Int) throws {
        let schema = try SchemaText.schema(text)
        #expect(schema.fields.count == columns)
    }
}
