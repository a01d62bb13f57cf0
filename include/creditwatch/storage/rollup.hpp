#pragma once

#include "creditwatch/storage/store.hpp"

#include <optional>
#include <vector>

namespace creditwatch::storage {

// The hourly roll-up of stored runs, shared by both stores' prune() and the series endpoint
// so an hour reads the same whether its raw runs are still there or not.
//
// `runs` are runs of one account and currency, oldest first. Each run counts as one reading
// in the hour it starts (a run spanning hours is not repeated in the later ones): open is
// the first balance of the hour, close the last, low the lowest. The change from one run to
// the next belongs to the hour of the later run: with both runs carrying a spend counter
// that did not go back, spend is the counter's increase and a deposit is whatever the
// balance rose beyond it (rise + counted spend); otherwise a drop in balance is spend and a
// rise a deposit. `previous` is the run before runs[0] when it is gone (pruned): only its
// change into runs[0] is counted, not its reading.
std::vector<RollupRow> roll_up(const std::vector<SampleRow>& runs, const std::optional<SampleRow>& previous = std::nullopt);

// Folds `later` (the same account, currency and hour, from readings after those of
// `earlier`) into `earlier`: how prune() adds a batch to an hour it rolled up in part before.
void merge_rollup(RollupRow& earlier, const RollupRow& later);

}  // namespace creditwatch::storage
