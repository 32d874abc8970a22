#pragma once

// berthd's ImageBackend: the image routes over image::ImageService (shapes from records).

#include "api/routes/images.h"
#include "image/image_service.h"

namespace berth::cmd {

class DaemonImages : public api::routes::ImageBackend {
 public:
  explicit DaemonImages(image::ImageService* service) : service_(service) {}

  Result<std::vector<api::routes::ImageSummary>> ListImages(
      const api::routes::ImageFilters& filters) override;
  Result<api::routes::ImageInspect> InspectImage(const std::string& name) override;
  Result<std::vector<api::routes::ImageHistoryItem>> ImageHistory(const std::string& name) override;
  Result<void> TagImage(const std::string& source, const std::string& target) override;
  Result<std::vector<api::routes::ImageDeleteItem>> DeleteImage(const std::string& name, bool force,
                                                                bool noprune) override;
  Result<std::string> ImportImage(const std::function<Result<size_t>(char*, size_t)>& read,
                                  const api::routes::ImportRequest& request) override;
  Result<std::pair<std::vector<api::routes::ImageDeleteItem>, int64_t>> PruneImages(
      const api::routes::ImageFilters& filters) override;
  Result<std::pair<int64_t, std::vector<api::routes::ImageSummary>>> ImageDiskUsage() override;
  Result<std::vector<std::string>> LoadImages(
      const std::function<Result<size_t>(char*, size_t)>& read) override {
    return service_->LoadImages(read);
  }
  Result<void> SaveImages(const std::vector<std::string>& names, int output_fd) override {
    return service_->SaveImages(names, output_fd);
  }
  /// Over distribution::Pull.
  Result<void> PullImage(
      const api::routes::PullRequest& request,
      const std::function<void(const api::routes::PullMessage&)>& progress) override;
  /// Over distribution::Push.
  Result<void> PushImage(
      const api::routes::PushRequest& request,
      const std::function<void(const api::routes::PushMessage&)>& progress) override;
  /// GET /v2/ of the registry with the credentials (the WWW-Authenticate flow).
  Result<std::string> Login(const api::routes::AuthRequest& request) override;
  /// host[:port] of registries spoken to over plain HTTP besides loopback ones.
  void SetInsecureRegistries(std::vector<std::string> registries) {
    insecure_registries_ = std::move(registries);
  }

 private:
  image::ImageService* service_;
  std::vector<std::string> insecure_registries_;
};

}  // namespace berth::cmd
