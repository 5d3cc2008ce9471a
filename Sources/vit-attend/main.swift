import VitAttendCLI

// `vit-attend help [TOPIC]` prints a page of the manual; anything else is the command.
VitAttend.mainWithHelpTopics()
