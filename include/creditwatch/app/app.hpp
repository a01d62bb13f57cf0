#pragma once

namespace creditwatch::app {

// The whole program: parses the command line and runs one command. Returns the exit code.
int run(int argc, char** argv);

}  // namespace creditwatch::app
