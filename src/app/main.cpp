#include "creditwatch/app/app.hpp"

int main(int argc, char** argv) { return creditwatch::app::run(argc, argv); }
