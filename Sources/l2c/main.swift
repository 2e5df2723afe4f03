L2CCommand.main(RunOptions.normalise(Array(CommandLine.arguments.dropFirst())))
