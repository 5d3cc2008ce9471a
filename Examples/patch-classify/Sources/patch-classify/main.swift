PatchClassify.main()
