# Two team repositories on a Berth registry, each with a lifecycle policy and a pull policy,
# a creation template so that pushes under prod/ create immutable repositories, a repository
# encrypted under a KMS key of its own (named through an alias), and a CI service account that
# may push and pull platform/web (and nothing else), with an access key.
#
# The provider signs in with an access key from the environment, never from this file:
#   export BERTH_ACCESS_KEY_ID=BKIA... BERTH_SECRET_ACCESS_KEY=...
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
  # Credentials: BERTH_ACCESS_KEY_ID / BERTH_SECRET_ACCESS_KEY from the environment (or the
  # access_key_id / secret_access_key arguments, e.g. from variables marked sensitive).
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

# Encryption at rest under a customer-managed KMS key. A repository's encryption is fixed when
# it is created: naming another key replaces the repository. Destroying the key schedules its
# deletion after deletion_window_in_days (the registry keeps it until then; it can be
# imported by its key id, the alias by its name).
resource "berth_kms_key" "images" {
  description             = "encrypts platform/secure"
  deletion_window_in_days = 7
  enable_key_rotation     = true
}

resource "berth_kms_alias" "images" {
  alias_name    = "alias/platform-images"
  target_key_id = berth_kms_key.images.key_id
}

resource "berth_repository" "secure" {
  repository_name = "platform/secure"
  encryption_configuration = {
    encryption_type = "KMS"
    kms_key         = berth_kms_alias.images.alias_name # or berth_kms_key.images.arn
  }
}

output "repository_uris" {
  value = { for k, r in berth_repository.team : k => r.repository_uri }
}

# CI: a service account that pushes and pulls platform/web only.
resource "berth_principal" "ci" {
  principal_name = "ci-web"
  type           = "SERVICE_ACCOUNT"
  description    = "CI pipeline of the web team"
}

resource "berth_identity_policy" "ci_push_pull" {
  principal_name = berth_principal.ci.principal_name
  policy_name    = "push-pull-platform-web"
  policy_text = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "PushPull"
        Effect = "Allow"
        Action = [
          "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability", "ecr:ListImages",
          "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage",
        ]
        Resource = berth_repository.team["web"].repository_arn
      },
      { Sid = "Login", Effect = "Allow", Action = "ecr:GetAuthorizationToken", Resource = "*" },
    ]
  })
}

resource "berth_access_key" "ci" {
  principal_name = berth_principal.ci.principal_name
  description    = "CI pipeline (docker login -u <id> -p <secret>)"
}

output "ci_access_key_id" {
  value = berth_access_key.ci.access_key_id
}

# Shown once by the registry and kept in the state: terraform output -raw ci_secret_access_key
output "ci_secret_access_key" {
  value     = berth_access_key.ci.secret_access_key
  sensitive = true
}
