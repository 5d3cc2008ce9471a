import VitAttendCLI

VitAttend.main()
