# Two team repositories on a Berth registry, each with a lifecycle policy and a pull policy,
# and a creation template so that pushes under prod/ create immutable repositories.
terraform {
  required_providers {
    berth = {
      source = "berth/berth"
    }
  }
}

variable "endpoint" {
  type    = string
  default = "http://127.0.0.1:5000"
}

provider "berth" {
  endpoint = var.endpoint
  # access_key_id / secret_access_key, or BERTH_ACCESS_KEY_ID / BERTH_SECRET_ACCESS_KEY
}

locals {
  teams = ["web", "api"]
}

resource "berth_repository" "team" {
  for_each             = toset(local.teams)
  repository_name      = "platform/${each.key}"
  image_tag_mutability = "IMMUTABLE_WITH_EXCLUSION"
  image_tag_mutability_exclusion_filters = [
    { filter_type = "WILDCARD", filter = "latest" },
  ]
  tags = { team = each.key }
}

resource "berth_lifecycle_policy" "team" {
  for_each        = berth_repository.team
  repository_name = each.value.repository_name
  lifecycle_policy_text = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "keep the last 20 releases"
        selection    = { tagStatus = "tagged", tagPrefixList = ["release-"], countType = "imageCountMoreThan", countNumber = 20 }
        action       = { type = "expire" }
      },
      {
        rulePriority = 2
        description  = "untagged images go after a week"
        selection    = { tagStatus = "untagged", countType = "sinceImagePushed", countUnit = "days", countNumber = 7 }
        action       = { type = "expire" }
      },
    ]
  })
}

resource "berth_repository_policy" "team" {
  for_each        = berth_repository.team
  repository_name = each.value.repository_name
  policy_text = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Sid = "Pull", Effect = "Allow", Principal = "*", Action = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"] }]
  })
}

resource "berth_repository_creation_template" "prod" {
  prefix               = "prod"
  description          = "production repositories are created on first push, with tags that never move"
  applied_for          = ["CREATE_ON_PUSH"]
  image_tag_mutability = "IMMUTABLE"
}

output "repository_uris" {
  value = { for k, r in berth_repository.team : k => r.repository_uri }
}
