#include "fakes/postgres_server.hpp"

#include "fakes/real_peers.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace creditwatch::testing {
namespace {

constexpr const char* k_bin_dir = "/usr/lib/postgresql/15/bin";
constexpr const char* k_superuser = "postgres";
constexpr const char* k_runuser = "/usr/sbin/runuser";
constexpr int k_port_attempts = 5;
constexpr int k_log_tail_lines = 30;
constexpr auto k_ready_timeout = std::chrono::seconds(30);
constexpr auto k_stop_timeout = std::chrono::seconds(30);
constexpr auto k_psql_timeout = std::chrono::seconds(60);

// fsync=off: every write still reaches the kernel's page cache, which survives any process
// crash, SIGKILL included; only an OS crash or power loss would lose it and no test simulates
// one. synchronous_commit and full_page_writes stay on, because kill() is a process crash and
// both matter there: with synchronous_commit=off a commit is acknowledged while its WAL is still
// in shared memory, which the SIGKILL throws away (committed rows lost after recovery), and the
// kernel stops a write() between 4 kB pages on SIGKILL, so an 8 kB data page can be torn, which
// only its full-page image in the WAL repairs. With fsync off neither costs much.
constexpr const char* k_settings =
    "\n# creditwatch tests\n"
    "listen_addresses = '127.0.0.1'\n"
    "max_connections = 100\n"
    "shared_buffers = 16MB\n"
    "fsync = off\n";

// The superuser needs no password; every other role gives its own over TCP.
constexpr const char* k_client_auth =
    "local all all trust\n"
    "host all postgres 127.0.0.1/32 trust\n"
    "host all all 127.0.0.1/32 scram-sha-256\n";

// Run by /bin/sh beside each server: the server tells it the postmaster's pid after each start
// and "none" after each stop. When this process ends without tearing the server down (a crash,
// an ASan abort), the socket reaches EOF and the reaper shuts the orphaned server down and
// removes its directory, so no server outlives its test run.
constexpr const char* k_reaper_script = R"sh(
postmaster=none
while read -r line; do postmaster=$line; done
case $postmaster in
  ''|*[!0-9]*) ;;
  *) kill -QUIT "$postmaster" 2>/dev/null
     n=0
     while [ $n -lt 50 ] && kill -0 "$postmaster" 2>/dev/null && ! grep -q '^State:.Z' "/proc/$postmaster/status"; do
       sleep 0.1; n=$((n + 1))
     done
     kill -KILL "$postmaster" 2>/dev/null ;;
esac
rm -rf "$1"
)sh";

bool binaries_present() {
  for (const char* name : {"initdb", "postgres", "psql"}) {
    if (access(PostgresServer::binary(name).c_str(), X_OK) != 0) return false;
  }
  return true;
}

std::string last_lines(const std::string& text, int count) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::string out;
  for (std::size_t i = lines.size() > static_cast<std::size_t>(count) ? lines.size() - count : 0; i < lines.size();
       ++i) {
    out += lines[i] + "\n";
  }
  return out;
}

std::string percent_encoded(const std::string& text) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : text) {
    const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                            c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += {'%', k_hex[c >> 4], k_hex[c & 15]};
    }
  }
  return out;
}

// Database and role names go into SQL unescaped: keep them plain.
void require_plain_name(const std::string& name) {
  const bool plain = !name.empty() && name.size() < 64 &&
                     name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos;
  if (!plain) throw std::invalid_argument("PostgresServer: name '" + name + "' is not [a-z0-9_]{1,63}");
}

std::string sql_literal(const std::string& text) {
  std::string out = "'";
  for (const char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

std::vector<char*> c_args(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (const auto& a : argv) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

// In a forked child: a long-lived server must not hold the descriptors other tests have open
// (a pipe's write end held open would keep its reader waiting for EOF).
void close_inherited_descriptors() {
  if (close_range(3, ~0U, 0) != 0) {
    for (int fd = 3; fd < 4096; ++fd) close(fd);
  }
}

// The state letter in /proc/PID/stat and the parent pid; state 0 when there is no such process.
struct ProcessState {
  char state = 0;
  int parent = 0;
};

ProcessState process_state(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return {};
  const auto name_end = line.rfind(')');  // the name may hold spaces and parentheses
  if (name_end == std::string::npos) return {};
  std::istringstream rest(line.substr(name_end + 1));
  ProcessState state;
  rest >> state.state >> state.parent;
  return state;
}

bool alive(int pid) {
  const char state = process_state(pid).state;
  return state != 0 && state != 'Z' && state != 'X';
}

std::vector<int> children_of(int parent) {
  std::vector<int> children;
  std::error_code error;
  for (std::filesystem::directory_iterator it("/proc", error), end; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const int pid = std::stoi(name);
    if (process_state(pid).parent == parent) children.push_back(pid);
  }
  return children;
}

// postmaster.pid: line 1 the pid, line 8 the status, "ready" once it accepts connections.
bool pid_file_says_ready(const std::string& path, int pid) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines.size() >= 8 && lines[0] == std::to_string(pid) && lines[7].rfind("ready", 0) == 0;
}

std::size_t size_of(const std::string& path) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  return error ? 0 : size;
}

}  // namespace

PostgresServer::PostgresServer() {
  if (!binaries_present()) {
    throw std::runtime_error(
        std::string("PostgreSQL 15 is not installed (no initdb, postgres or psql in ") + k_bin_dir +
        "): install Debian's postgresql (scripts/install-deps). Only with CREDITWATCH_TEST_PG_SKIP "
        "set may tests skip, and only those marked doctest::skip(PostgresServer::skipped())");
  }
  if (geteuid() == 0) {
    const passwd* user = getpwnam("postgres");
    if (!user) throw std::runtime_error("running as root and there is no `postgres` user to run PostgreSQL as");
    m_as_postgres_user = true;
    m_uid = user->pw_uid;
    m_gid = user->pw_gid;
  }
  start_reaper();
  try {
    init_cluster();
    start_on_a_free_port();
    create_database("creditwatch");
  } catch (...) {
    tear_down();
    throw;
  }
}

PostgresServer::~PostgresServer() { tear_down(); }

PostgresServer& PostgresServer::shared() {
  static PostgresServer server;
  if (!server.running()) server.start();
  return server;
}

bool PostgresServer::skipped() { return std::getenv("CREDITWATCH_TEST_PG_SKIP") != nullptr && !binaries_present(); }

std::string PostgresServer::binary(const std::string& name) { return std::string(k_bin_dir) + "/" + name; }

std::string PostgresServer::url(const std::string& database) const {
  return std::string("postgresql://") + k_superuser + "@127.0.0.1:" + std::to_string(m_port) + "/" + database;
}

std::string PostgresServer::url(const PostgresRole& role, const std::string& database) const {
  return "postgresql://" + percent_encoded(role.name) + ":" + percent_encoded(role.password) +
         "@127.0.0.1:" + std::to_string(m_port) + "/" + database;
}

std::string PostgresServer::create_database(const std::string& name, const std::string& owner) {
  require_plain_name(name);
  require_plain_name(owner);
  // FORCE ends the sessions a previous run of the test left connected.
  run_sql({"DROP DATABASE IF EXISTS \"" + name + "\" WITH (FORCE)",
           "CREATE DATABASE \"" + name + "\" OWNER \"" + owner + "\""});
  return url(name);
}

PostgresRole PostgresServer::create_role(const std::string& name, const std::string& password) {
  require_plain_name(name);
  const auto existing = psql("SELECT 1 FROM pg_roles WHERE rolname = " + sql_literal(name), "postgres");
  const bool exists = existing.exit_code == 0 && existing.out.find('1') != std::string::npos;
  run_sql(
      {std::string(exists ? "ALTER" : "CREATE") + " ROLE \"" + name + "\" LOGIN PASSWORD " + sql_literal(password)});
  return {name, password};
}

ProcessResult PostgresServer::psql(const std::string& sql, const std::string& database) const {
  return run_process({binary("psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url(database), "-c", sql},
                     {{"PGCONNECT_TIMEOUT", "10"}}, k_psql_timeout);
}

void PostgresServer::stop() {
  if (!running()) return;
  ::kill(m_postmaster, SIGINT);
  if (!wait_exit(k_stop_timeout)) {
    kill();
    throw std::runtime_error(failure("PostgreSQL did not stop within 30 s of a fast shutdown (it was killed)"));
  }
}

void PostgresServer::start() {
  if (running()) return;
  if (launch() != Launch::ready) {
    throw std::runtime_error(failure("PostgreSQL did not start again on port " + std::to_string(m_port)));
  }
}

void PostgresServer::kill() {
  if (!running()) return;
  // Stopped first, so that it forks nothing between the listing of its children and the kill.
  ::kill(m_postmaster, SIGSTOP);
  std::vector<int> doomed = children_of(m_postmaster);
  doomed.push_back(m_postmaster);
  for (const int pid : doomed) ::kill(pid, SIGKILL);
  tell_reaper("none");
  waitpid(m_postmaster, nullptr, 0);
  m_postmaster = -1;
  // The backends were reparented when the postmaster died; start() must not find one of them
  // still attached to the old shared memory.
  eventually(
      [&] {
        for (const int pid : doomed) {
          if (alive(pid)) return false;
        }
        return true;
      },
      std::chrono::seconds(10));
}

bool PostgresServer::running() {
  if (m_postmaster <= 0) return false;
  const int reaped = waitpid(m_postmaster, nullptr, WNOHANG);
  if (reaped == 0) return true;
  tell_reaper("none");
  m_postmaster = -1;
  return false;
}

std::string PostgresServer::log() const { return read_file(m_dir.file("postgres.log")); }

void PostgresServer::init_cluster() {
  std::vector<std::string> argv = {binary("initdb"), "-D",          m_dir.file("data"), "-U",       k_superuser, "-E",
                                   "UTF8",           "--no-locale", "--auth=trust",     "--no-sync"};
  if (m_as_postgres_user) {
    if (chown(m_dir.path().c_str(), m_uid, m_gid) != 0) throw std::runtime_error("chown " + m_dir.path() + " failed");
    argv.insert(argv.begin(), {k_runuser, "-u", "postgres", "--"});
  }
  const ProcessResult result = run_process(argv, {}, std::chrono::seconds(120));
  if (result.exit_code != 0) {
    throw std::runtime_error("initdb failed (exit " + std::to_string(result.exit_code) +
                             "; as root, the postgres user must be able to reach $TMPDIR):\n" + result.out +
                             result.err);
  }
  std::ofstream(m_dir.file("data/postgresql.conf"), std::ios::app)
      << k_settings << "unix_socket_directories = '" << m_dir.path() << "'\n";
  std::ofstream(m_dir.file("data/pg_hba.conf"), std::ios::trunc) << k_client_auth;
}

void PostgresServer::start_reaper() {
  int ends[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0) throw std::runtime_error("socketpair failed");
  const std::vector<std::string> argv = {"/bin/sh", "-c", k_reaper_script, "postgres-reaper", m_dir.path()};
  auto args = c_args(argv);
  const pid_t pid = fork();
  if (pid == 0) {
    setsid();  // a Ctrl-C meant for the tests must not stop it before it has cleaned up
    const int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    dup2(ends[1], 0);
    dup2(devnull, 1);
    dup2(devnull, 2);
    close_inherited_descriptors();
    execv(args[0], args.data());
    _exit(127);
  }
  close(ends[1]);
  if (pid < 0) {
    close(ends[0]);
    throw std::runtime_error("fork failed");
  }
  m_reaper = pid;
  m_reaper_socket = ends[0];
}

void PostgresServer::tell_reaper(const std::string& postmaster_pid) const {
  const std::string line = postmaster_pid + "\n";
  if (m_reaper_socket >= 0) send(m_reaper_socket, line.data(), line.size(), MSG_NOSIGNAL);
}

void PostgresServer::start_on_a_free_port() {
  // free_port() only says the port was free a moment ago: another server may bind it first.
  for (int attempt = 1;; ++attempt) {
    m_port = free_port();
    const Launch result = launch();
    if (result == Launch::ready) return;
    if (result == Launch::failed || attempt == k_port_attempts)
      throw std::runtime_error(failure("PostgreSQL did not start"));
  }
}

PostgresServer::Launch PostgresServer::launch() {
  const std::vector<std::string> argv = {binary("postgres"), "-D", m_dir.file("data"), "-p", std::to_string(m_port)};
  auto args = c_args(argv);
  const std::string log_path = m_dir.file("postgres.log");
  const std::size_t log_before = size_of(log_path);
  const gid_t gid = m_gid;
  // The postmaster is our child rather than pg_ctl's daemon, so that we reap it ourselves: an
  // unreaped zombie keeps its pid "alive", and postgres then refuses to start on the lock file.
  const pid_t pid = fork();
  if (pid == 0) {
    setsid();  // its own session: a Ctrl-C on the tests leaves it to the reaper
    const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    const int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (log < 0 || devnull < 0) _exit(126);
    dup2(devnull, 0);
    dup2(log, 1);
    dup2(log, 2);
    close_inherited_descriptors();
    if (m_as_postgres_user && (setgroups(1, &gid) != 0 || setgid(gid) != 0 || setuid(m_uid) != 0)) _exit(126);
    execv(args[0], args.data());
    _exit(127);
  }
  if (pid < 0) throw std::runtime_error("fork failed");
  m_postmaster = pid;
  tell_reaper(std::to_string(pid));
  if (wait_ready()) return Launch::ready;
  kill();  // when it hung rather than exited
  const bool port_taken = log().find("Address already in use", log_before) != std::string::npos;
  return port_taken ? Launch::port_taken : Launch::failed;
}

bool PostgresServer::wait_ready() {
  const std::string pid_file = m_dir.file("data/postmaster.pid");
  return eventually([&] { return !running() || pid_file_says_ready(pid_file, m_postmaster); }, k_ready_timeout) &&
         running();
}

bool PostgresServer::wait_exit(std::chrono::milliseconds timeout) {
  return eventually([&] { return !running(); }, timeout);
}

void PostgresServer::run_sql(const std::vector<std::string>& statements) const {
  std::vector<std::string> argv = {binary("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url("postgres")};
  for (const auto& statement : statements) argv.insert(argv.end(), {"-c", statement});
  const ProcessResult result = run_process(argv, {{"PGCONNECT_TIMEOUT", "10"}}, k_psql_timeout);
  if (result.exit_code != 0) throw std::runtime_error(failure("psql failed: " + result.err));
}

std::string PostgresServer::failure(const std::string& what) const {
  return what + "\n--- the PostgreSQL log ends with:\n" + last_lines(log(), k_log_tail_lines);
}

void PostgresServer::tear_down() {
  if (running()) {
    ::kill(m_postmaster, SIGQUIT);  // immediate shutdown: the data is removed next anyway
    if (!wait_exit(std::chrono::seconds(10))) kill();
  }
  if (m_reaper_socket >= 0) close(m_reaper_socket);  // EOF: the reaper removes the directory
  m_reaper_socket = -1;
  if (m_reaper > 0) waitpid(m_reaper, nullptr, 0);
  m_reaper = -1;
}

}  // namespace creditwatch::testing
