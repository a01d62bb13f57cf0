#pragma once

#include <string>

namespace creditwatch::testing {

// A fresh directory under $TMPDIR, removed with its contents on destruction.
class TempDir {
public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return m_path; }
  std::string file(const std::string& name) const { return m_path + "/" + name; }
  // Writes `content` to NAME inside the directory and returns its path.
  std::string write(const std::string& name, const std::string& content) const;

private:
  std::string m_path;
};

}  // namespace creditwatch::testing
