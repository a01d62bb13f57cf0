#include "fakes/temp_dir.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace creditwatch::testing {

TempDir::TempDir() {
  std::string base = std::filesystem::temp_directory_path().string() + "/creditwatch-test-XXXXXX";
  if (!mkdtemp(base.data())) throw std::runtime_error("mkdtemp failed");
  m_path = base;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(m_path, ignored);
}

std::string TempDir::write(const std::string& name, const std::string& content) const {
  std::string path = file(name);
  std::ofstream(path) << content;
  return path;
}

}  // namespace creditwatch::testing
