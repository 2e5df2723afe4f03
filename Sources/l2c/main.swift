L2CCommand.main()
