/// "1 layer", "4 layers": a count with its noun in the right number (regular plurals only).
func plural(_ count: Int, _ noun: String) -> String {
  "\(count) \(noun)\(count == 1 ? "" : "s")"
}
