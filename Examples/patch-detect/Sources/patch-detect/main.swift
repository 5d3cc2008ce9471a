import PatchDetectKit

PatchDetect.main()
