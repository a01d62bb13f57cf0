#pragma once

#include "creditwatch/config/config.hpp"
#include "creditwatch/notify/digest.hpp"
#include "creditwatch/scheduler/assessment.hpp"
#include "creditwatch/storage/store.hpp"

namespace creditwatch::scheduler {

// The digest of the period [period_end - digest.every, period_end) from what the store
// holds, for every configured account: its spend and deposits in that period and spend in
// the one before (hourly steps, from the rollups and the raw runs alike: storage::series,
// so an hour counts from where its reading started), its balance, runway and recommended
// top-up now (from the database, as `status` computes them), and the alerts that fired in
// the period: the firing notifications the outbox queued then, and alerts still firing that
// started in it (a silenced one queues nothing). `config.digest` must be set.
notify::Digest build_digest(storage::Store& store, Assessor& assessor, const config::Config& config,
                            TimePoint period_end);

}  // namespace creditwatch::scheduler
