import ArgumentParser
import Foundation

/// A page of `vit-attend help TOPIC`: the explanations too long for an option's one line
/// (the dump's tensors, the page's size, the resizing rules, ...), so that `--help` stays an
/// overview, the usage and the grouped options.
///
/// The pages are plain text wrapped at 90 columns; `vit-attend help` lists them.
enum HelpTopic: String, CaseIterable {
  case model, maps, resizing, dump, page
  case highResolution = "high-resolution"
  case gradients, faithfulness, folders

  /// One line for the list of topics.
  var summary: String {
    switch self {
    case .model: "the built-in model, --weights (ViT, Swin, DETR), what a config may omit"
    case .maps: "what each --map draws, and which options it reads"
    case .resizing: "how an image is sized for the model, and --query coordinates"
    case .dump: "--dump FILE.safetensors: every tensor, its shape, and the metadata"
    case .page: "--html: the interactive page, its URL fragment and its size"
    case .highResolution: "above --full-attention-limit: tiled attention, rows instead of matrices"
    case .gradients: "class-specific maps: --class, --target-embedding, --cnn-weights"
    case .faithfulness: "--faithfulness REPORT.json: deletion and insertion scores of the maps"
    case .folders: "folder runs: index.jsonl, --keep-going, shards and --merge, exit codes"
    }
  }

  /// The list `vit-attend help` prints (and an unknown topic's error repeats).
  static var list: String {
    let width = allCases.map(\.rawValue.count).max() ?? 0
    let lines = allCases.map { "  " + $0.rawValue.padding(toLength: width + 2, withPad: " ", startingAt: 0) + $0.summary }
    return "Topics (vit-attend help TOPIC):\n" + lines.joined(separator: "\n") + "\n"
  }
}

/// What `vit-attend help ...` asked for: the list, one page, or a word that is no topic.
enum HelpRequest: Equatable {
  case list
  case page(HelpTopic)
  case unknown(String)

  /// Reads the words after `help`. `vit-attend help --help` (or `-h`) is the list too; more
  /// than one word is an error, since a page is one topic.
  init(words: [String]) {
    switch words.count {
    case 0: self = .list
    case 1 where ["-h", "--help", "-help"].contains(words[0]): self = .list
    case 1: self = HelpTopic(rawValue: words[0].lowercased()).map(HelpRequest.page) ?? .unknown(words[0])
    default: self = .unknown(words.joined(separator: " "))
    }
  }
}

extension VitAttend {
  /// Runs `vit-attend`: `vit-attend help [TOPIC]` prints a page of `HelpTopic`; anything else
  /// is parsed by ArgumentParser as the command's inputs and options.
  ///
  /// Why the first argument is read here rather than declared as a subcommand: the command
  /// takes input paths as positional arguments, and a command with subcommands gets
  /// ArgumentParser's own `help` subcommand (which prints a command's options and reads
  /// further words as subcommand names, not topics) and a usage of `<subcommand>`. Here the
  /// rule is one line: only the exact first argument `help` is the manual, so a file named
  /// `help` runs as `./help` (or anywhere after the first argument), and `vit-attend help
  /// dump` is never taken for two images.
  public static func mainWithHelpTopics(_ arguments: [String] = Array(CommandLine.arguments.dropFirst())) {
    guard arguments.first == "help" else { return main(arguments) }
    switch HelpRequest(words: Array(arguments.dropFirst())) {
    case .list:
      print("vit-attend help TOPIC prints one of these pages; vit-attend --help lists the options.\n")
      print(HelpTopic.list, terminator: "")
    case .page(let topic):
      print(topic.page, terminator: "")
    case .unknown(let word):
      let message =
        "Error: no help topic '\(word)'.\n\(HelpTopic.list)"
        + "For an input file named help, write ./help (the first argument help reads this manual).\n"
      FileHandle.standardError.write(Data(message.utf8))
      // 64 (EX_USAGE), as ArgumentParser exits on any other usage error.
      Foundation.exit(ExitCode.validationFailure.rawValue)
    }
  }
}
