#pragma once

// The volume routes of the Engine API, with Docker's JSON shapes (api/types/volume):
//   GET    /volumes               {"Volumes":[…],"Warnings":null}; filters name, label,
//                                 dangling, driver
//   POST   /volumes/create        {Name, Driver, DriverOpts, Labels} → 201 and the volume
//   GET    /volumes/{name}        the volume
//   DELETE /volumes/{name}?force= 204
//   POST   /volumes/prune         {"VolumesDeleted":[…],"SpaceReclaimed":N}; filters label,
//                                 label!, all (API < 1.42: every unused volume)
// UsageData is only in /system/df (VolumeJson's usage argument).

#include <cstdint>
#include <string>

#include "api/http/router.h"
#include "engine/volume/volume_service.h"

namespace berth::api::volumes {

void AddVolumeRoutes(Router* router, engine::VolumeService* service);

/// Docker's Volume object as JSON text: CreatedAt, Driver, Labels, Mountpoint, Name,
/// Options, Scope, and with size >= 0 also UsageData {"RefCount": refs, "Size": size}
/// (the /system/df form).
std::string VolumeJson(const engine::Volume& v, int64_t size = -1, int64_t refs = -1);

}  // namespace berth::api::volumes
